package dev.ssehub.api;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

import jakarta.ws.rs.sse.SseEventSink;

import org.jboss.logging.Logger;

import dev.ssehub.hub.Frame;
import dev.ssehub.hub.SseChannel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.FileDescriptor;
import io.netty.handler.codec.http.HttpContentEncoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * A stream's transport: the JAX-RS {@link SseEventSink} for its lifecycle (the broadcaster sees every
 * close) and the connection underneath for the bytes.
 *
 * <p>The first write goes through the Vert.x response, which sends the headers and starts the chunked
 * body. After that, on a plain HTTP/1.1 connection, frames are written as ready-made HTTP chunks
 * straight into the Netty pipeline below the HTTP encoder: an event's chunk is built once, in direct
 * memory, and the same bytes go to every stream without a copy, per-stream encoding or heap-to-direct
 * copy. Several frames waiting for one stream go out as one chunk in one write. Anything else (HTTP/2,
 * compression, HTTP/1.0) keeps writing through the Vert.x response.
 */
final class VertxSseChannel implements SseChannel {

    private static final Logger LOG = Logger.getLogger(VertxSseChannel.class);
    private static final byte[] CRLF = { '\r', '\n' };
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final DirectSlab SLAB = new DirectSlab();
    /** A frame as one HTTP/1.1 chunk, in direct memory, shared by every stream. */
    private static final Function<Frame, ByteBuffer> CHUNK = frame -> {
        ByteBuf chunk = Unpooled.buffer(frame.length() + 12);
        writeChunk(chunk, List.of(frame), frame.length());
        return SLAB.copy(chunk.nioBuffer());
    };
    private static volatile boolean pipelineLogged;
    private static final boolean EPOLL = epollAvailable();

    private final HttpServerRequest request;
    private final HttpServerResponse response;
    private final SseEventSink sink;
    private final LoopBatcher batcher;
    /** The HTTP encoder's context once the headers are out, when raw chunk writes apply; else null. */
    private ChannelHandlerContext raw;
    /** The socket, when direct writes apply (see {@link #probe}); else null. */
    private FileDescriptor fd;
    private boolean probed;

    VertxSseChannel(HttpServerRequest request, HttpServerResponse response, SseEventSink sink, EventLoop loop) {
        this.request = request;
        this.response = response;
        this.sink = sink;
        this.batcher = LoopBatcher.of(loop);
    }

    @Override
    public void execute(Runnable task) {
        batcher.execute(task);
    }

    @Override
    public boolean write(List<Frame> frames, Consumer<Throwable> done) {
        ChannelHandlerContext ctx = raw;
        if (ctx == null) {
            writeThroughVertx(frames, done);
            if (!probed) {
                probed = true;
                probe();
            }
            return false;
        }
        ByteBuf buf;
        if (frames.size() == 1) {
            ByteBuffer chunk = frames.get(0).encoded(CHUNK);
            if (fd != null && nothingPending()) {
                // The usual case: one event, nothing queued in Netty: one write(2) of the shared bytes.
                try {
                    int n = fd.write(chunk, chunk.position(), chunk.limit());
                    if (n == chunk.remaining()) {
                        return true;
                    }
                    buf = Unpooled.wrappedBuffer(chunk.duplicate()).skipBytes(n);
                } catch (IOException e) {
                    done.accept(e);
                    return false;
                }
            } else {
                buf = Unpooled.wrappedBuffer(chunk.duplicate());
            }
        } else {
            int total = 0;
            for (int i = 0; i < frames.size(); i++) {
                total += frames.get(i).length();
            }
            buf = ctx.alloc().directBuffer(total + 12);
            writeChunk(buf, frames, total);
            if (fd != null && buf.hasMemoryAddress() && nothingPending()) {
                try {
                    int n = fd.writeAddress(buf.memoryAddress(), buf.readerIndex(), buf.writerIndex());
                    if (n == buf.readableBytes()) {
                        buf.release();
                        return true;
                    }
                    buf.skipBytes(n);
                } catch (IOException e) {
                    buf.release();
                    done.accept(e);
                    return false;
                }
            }
        }
        // The socket is full (or Netty still holds earlier bytes): Netty writes the rest when it drains.
        ChannelPromise promise = ctx.newPromise();
        promise.addListener(f -> done.accept(f.isSuccess() ? null : f.cause()));
        ctx.writeAndFlush(buf, promise);
        return false;
    }

    /** Nothing of this connection waits in Netty, so a direct write keeps the byte order. */
    private boolean nothingPending() {
        Channel ch = raw.channel();
        ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
        return out != null && out.totalPendingWriteBytes() == 0 && ch.isActive();
    }

    private void writeThroughVertx(List<Frame> frames, Consumer<Throwable> done) {
        Buffer buffer;
        if (frames.size() == 1) {
            buffer = Buffer.buffer(Unpooled.wrappedBuffer(frames.get(0).bytes()));
        } else {
            byte[][] parts = new byte[frames.size()][];
            for (int i = 0; i < parts.length; i++) {
                parts[i] = frames.get(i).bytes();
            }
            buffer = Buffer.buffer(Unpooled.wrappedBuffer(parts));
        }
        try {
            response.write(buffer, ar -> done.accept(ar.succeeded() ? null : ar.cause()));
        } catch (IllegalStateException closed) {
            // The response was closed under us (client gone): same as a failed write.
            done.accept(closed);
        }
    }

    /**
     * After the headers are out: uses raw chunk writes if this stream is a plain chunked HTTP/1.1
     * response whose body no handler transforms (writes made from the encoder's context skip the encoder
     * and reach the socket as they are), and direct write(2) calls on the socket when, in addition, the
     * transport is epoll and no outbound handler (TLS, traffic shaping) sits between the encoder and the
     * socket.
     */
    private void probe() {
        if (request.version() != HttpVersion.HTTP_1_1 || !response.isChunked() || response.closed()) {
            return;
        }
        HttpConnection connection = request.connection();
        if (!(connection instanceof ConnectionBase base)) {
            return;
        }
        Channel ch = base.channel();
        ChannelPipeline pipeline = ch.pipeline();
        if (!pipelineLogged) {
            pipelineLogged = true;
            LOG.debugf("Stream pipeline: %s (%s)", pipeline.names(), ch.getClass().getSimpleName());
        }
        if (pipeline.get(HttpContentEncoder.class) != null) {
            return; // compression on: the body must go through the compressor
        }
        ChannelHandlerContext encoder = pipeline.context(HttpResponseEncoder.class);
        if (encoder == null) {
            return;
        }
        raw = encoder;
        // The head is out and nothing reads these maps again (keep-alive was decided when the request came
        // in; the hub copied what it keeps): an idle stream should not hold a dozen header entries.
        response.headers().clear();
        request.headers().clear();
        if (EPOLL && ch instanceof AbstractEpollStreamChannel epoll) {
            for (Map.Entry<String, ChannelHandler> h : pipeline) {
                if (h.getValue() == encoder.handler()) {
                    fd = epoll.fd();
                    break;
                }
                if (h.getValue() instanceof ChannelOutboundHandler) {
                    break; // e.g. TLS: bytes must pass through it
                }
            }
        }
    }

    private static boolean epollAvailable() {
        try {
            return Epoll.isAvailable();
        } catch (Throwable t) {
            return false;
        }
    }

    /**
     * Writes the frames ({@code length} bytes in all) as one HTTP/1.1 chunk: the length in lower-case hex,
     * CRLF, the frames, CRLF; no String per write.
     */
    private static void writeChunk(ByteBuf buf, List<Frame> frames, int length) {
        int shift = (31 - Integer.numberOfLeadingZeros(length | 1)) / 4 * 4;
        for (; shift >= 0; shift -= 4) {
            buf.writeByte(HEX[(length >>> shift) & 0xf]);
        }
        buf.writeBytes(CRLF);
        for (int i = 0; i < frames.size(); i++) {
            buf.writeBytes(frames.get(i).bytes());
        }
        buf.writeBytes(CRLF);
    }

    @Override
    public void close() {
        sink.close();
    }

    @Override
    public void abort() {
        try {
            response.close();
        } finally {
            sink.close();
        }
    }

    /**
     * Direct memory for shared chunks, cut from 256 KiB slabs: one allocation per slab instead of per
     * event; a slab is freed by the garbage collector once no chunk cut from it is referenced.
     */
    static final class DirectSlab {
        private static final int SLAB_BYTES = 256 * 1024;
        private ByteBuffer slab;

        synchronized ByteBuffer copy(ByteBuffer src) {
            int n = src.remaining();
            ByteBuffer out;
            if (n > SLAB_BYTES / 8) {
                out = ByteBuffer.allocateDirect(n);
            } else {
                if (slab == null || slab.remaining() < n) {
                    slab = ByteBuffer.allocateDirect(SLAB_BYTES);
                }
                out = slab.slice();
                out.limit(n);
                slab.position(slab.position() + n);
            }
            out.put(src).flip();
            return out;
        }
    }
}
