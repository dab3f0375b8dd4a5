package dev.ssehub.transport;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import jakarta.ws.rs.sse.SseEventSink;

import dev.ssehub.hub.Connection;
import dev.ssehub.hub.DeliveryError;
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
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.unix.FileDescriptor;
import io.netty.handler.codec.http.HttpContentEncoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.vertx.core.AsyncResult;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * The transport under one stream: the JAX-RS {@link SseEventSink} for its lifecycle (the broadcaster
 * sees every close, see {@link SinkTracker}) and the connection underneath for the bytes.
 *
 * <p><b>Write paths.</b> The first write goes through the Vert.x response, which sends the head and
 * starts the chunked body. Then the stream's {@link WritePath} is chosen, once: {@link WritePath#SOCKET}
 * (one {@code write(2)} of a shared chunk on the socket), {@link WritePath#BELOW_ENCODER} (ready-made
 * chunks into the pipeline below the HTTP encoder) or {@link WritePath#VERTX} (the Vert.x response, for
 * HTTP/2, HTTP/1.0, compression, and whenever the HTTP access log is on). Raw chunks of an event are built
 * once in direct memory ({@link ChunkEncoder#SHARED}) and the same bytes go to every stream; a write of
 * several frames hands the kernel their shared chunks as they are ({@code writev}), so a stream never
 * copies frames into memory of its own. A failed allocation or write is reported through the write's
 * {@code done}, never thrown, so the stream is closed instead of left silent.
 *
 * <p><b>Invariants</b> (docs/architecture.md explains why each matters):
 * <ol>
 * <li>Every write happens on the stream's own event loop. Enforced: a raw write off the loop goes through
 * the Vert.x response instead (which hops to the loop) and is counted ({@link StreamTransport.Fallback#OFF_LOOP}).
 * <li>One write is in flight per stream: the next write starts after the previous one completed
 * ({@link Connection}'s write loop; the {@link SseChannel} contract).
 * <li>The head goes out before the first raw chunk: the first write always takes the Vert.x path, and the
 * raw path is chosen after it.
 * <li>Nothing is written raw after the stream is closed: a raw {@code write(2)} racing a close could land
 * on a reused file descriptor, that is on another client's socket, and a raw chunk after the response's
 * last chunk would corrupt the next response on a keep-alive connection. Enforced: a raw write checks,
 * on the loop (where Netty closes the socket, so the check cannot go stale before the write), that
 * neither the stream nor the connection is closed, and otherwise takes the Vert.x path, which refuses
 * it, and is counted ({@link StreamTransport.Fallback#CLOSED}).
 * <li>Shared chunks are never modified: they are read through duplicates or by address.
 * <li>What the raw paths skip: Vert.x's write-queue accounting ({@code writeQueueFull}, drain handlers:
 * the stream's own one-write-in-flight rule does that job), Vert.x's bytes-written metrics, and the
 * access log's response sizes (so an access log forces the Vert.x path).
 * <li>A write's {@code done} never runs inside Netty's HTTP encoder, which is not re-entrant (what the hub
 * does with a failure writes through it again). Enforced: a Vert.x write that fails before
 * {@code response.write} returned reports from a later task ({@link VertxWrite}).
 * </ol>
 */
public final class VertxSseChannel implements SseChannel {

    private static final VarHandle COUNTED;
    static {
        try {
            COUNTED = MethodHandles.lookup().findVarHandle(VertxSseChannel.class, "counted", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    /** Room for the shared chunks of one write (see {@code Connection.MAX_WRITE_FRAMES}), per loop thread. */
    private static final ThreadLocal<ByteBuffer[]> SCRATCH = ThreadLocal.withInitial(() -> new ByteBuffer[1024]);
    private static final int NOT_COUNTED = 0;
    private static final int COUNTED_OPEN = 1;
    private static final int RELEASED = 2;

    private final HttpServerRequest request;
    private final HttpServerResponse response;
    private final SseEventSink sink;
    private final LoopBatcher batcher;
    private final StreamTransport transport;
    /** Chosen at the first write (loop thread); null until then. */
    private WritePath path;
    /** The HTTP encoder's context, for the raw paths. */
    private ChannelHandlerContext encoder;
    /** The socket, for {@link WritePath#SOCKET}. */
    private FileDescriptor fd;
    /** Set by {@link #close} and {@link #abort} from any thread: from then on nothing is written raw. */
    private volatile boolean closing;
    /** Whether this stream is counted in its path's open streams: NOT_COUNTED, COUNTED_OPEN, RELEASED. */
    @SuppressWarnings("unused")
    private volatile int counted;
    /** The hub's side of this stream, once it is open. */
    volatile Connection connection;

    VertxSseChannel(HttpServerRequest request, HttpServerResponse response, SseEventSink sink, LoopBatcher batcher,
            StreamTransport transport) {
        this.request = request;
        this.response = response;
        this.sink = sink;
        this.batcher = batcher;
        this.transport = transport;
    }

    @Override
    public void execute(Runnable task) {
        batcher.execute(task);
    }

    @Override
    public boolean write(List<Frame> frames, Consumer<Throwable> done) {
        WritePath p = path;
        if (p == null) {
            // The first write carries the head: only the Vert.x response can send it.
            writeThroughVertx(frames, done);
            choosePath();
            return false;
        }
        if (p == WritePath.VERTX) {
            writeThroughVertx(frames, done);
            return false;
        }
        Channel ch = encoder.channel();
        if (!ch.eventLoop().inEventLoop()) {
            transport.fellBack(StreamTransport.Fallback.OFF_LOOP);
            writeThroughVertx(frames, done);
            return false;
        }
        if (closing || !ch.isOpen()) {
            transport.fellBack(StreamTransport.Fallback.CLOSED);
            writeThroughVertx(frames, done);
            return false;
        }
        return p == WritePath.SOCKET ? writeToSocket(frames, done) : writeBelowEncoder(frames, done);
    }

    /** The path this stream writes by; null before its first write. */
    public WritePath path() {
        return path;
    }

    @Override
    public DeliveryError classify(Throwable failure) {
        return StreamTransport.classify(failure);
    }

    /**
     * {@link WritePath#SOCKET}: when nothing of this connection waits in Netty (so a direct write keeps the
     * byte order), one {@code write(2)} of a frame's shared chunk, or one {@code writev(2)} of several
     * frames' shared chunks: no copy into memory of this stream's own. What the socket does not take goes
     * below the encoder, and Netty writes it when the socket drains.
     */
    private boolean writeToSocket(List<Frame> frames, Consumer<Throwable> done) {
        if (!nothingPending()) {
            return writeBelowEncoder(frames, done);
        }
        ByteBuffer[] chunks = SCRATCH.get();
        int n = frames.size();
        long total = 0;
        long written;
        try {
            if (chunks.length < n) {
                chunks = new ByteBuffer[n];
                SCRATCH.set(chunks);
            }
            for (int i = 0; i < n; i++) {
                chunks[i] = frames.get(i).encoded(ChunkEncoder.SHARED);
                total += chunks[i].remaining();
            }
            written = n == 1
                    ? fd.write(chunks[0], chunks[0].position(), chunks[0].limit())
                    : fd.writev(chunks, 0, n, total);
            if (written == total) {
                return true;
            }
            return writeBelowEncoder(ChunkEncoder.remainder(chunks, n, written), done);
        } catch (Throwable t) {
            // An allocation that failed (the shared chunk), or the socket: reported, never thrown.
            done.accept(t);
            return false;
        } finally {
            Arrays.fill(chunks, 0, Math.min(n, chunks.length), null);
        }
    }

    /** {@link WritePath#BELOW_ENCODER}: the frames' shared chunks, wrapped without a copy. */
    private boolean writeBelowEncoder(List<Frame> frames, Consumer<Throwable> done) {
        ByteBuf chunks;
        try {
            chunks = ChunkEncoder.wrap(frames);
        } catch (Throwable t) {
            done.accept(t);
            return false;
        }
        return writeBelowEncoder(chunks, done);
    }

    /** The chunks enter the pipeline after the HTTP encoder; Netty releases them once written. */
    private boolean writeBelowEncoder(ByteBuf chunks, Consumer<Throwable> done) {
        ChannelPromise promise = encoder.newPromise();
        promise.addListener(f -> done.accept(f.isSuccess() ? null : f.cause()));
        encoder.writeAndFlush(chunks, promise);
        return false;
    }

    /** Nothing of this connection waits in Netty, so a direct write keeps the byte order. */
    private boolean nothingPending() {
        Channel ch = encoder.channel();
        ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
        return out != null && out.totalPendingWriteBytes() == 0 && ch.isActive();
    }

    private void writeThroughVertx(List<Frame> frames, Consumer<Throwable> done) {
        Buffer buffer;
        try {
            buffer = Buffer.buffer(ChunkEncoder.bodies(frames));
        } catch (RuntimeException | Error e) {
            // Memory for the frames' shared chunks ran out: reported, never thrown.
            done.accept(e);
            return;
        }
        VertxWrite write = new VertxWrite(done);
        try {
            response.write(buffer, write);
        } catch (RuntimeException | Error e) {
            // The response was ended under us (a close raced the write).
            done.accept(e);
            return;
        }
        write.returned = true;
    }

    /**
     * The completion of one write through the Vert.x response. A write into a pipeline whose socket the
     * loop has just closed (before the close handlers ran, so Vert.x does not know) fails at once, inside
     * Netty's HTTP encoder. What {@code done} does with a failure (the hub closes the stream, which ends the
     * response) writes through that encoder again, and it is not re-entrant: its output list still holds
     * the failed write's released buffers, which it would release again. So a failure that arrives before
     * {@code response.write} returned is reported from a later task on the loop.
     */
    private final class VertxWrite implements Handler<AsyncResult<Void>> {
        private final Consumer<Throwable> done;
        /** Set once response.write returned; read on the loop (a stale false only defers the report). */
        volatile boolean returned;

        VertxWrite(Consumer<Throwable> done) {
            this.done = done;
        }

        @Override
        public void handle(AsyncResult<Void> ar) {
            if (ar.succeeded()) {
                done.accept(null);
            } else if (returned) {
                done.accept(ar.cause());
            } else {
                Throwable failure = ar.cause();
                execute(() -> done.accept(failure));
            }
        }
    }

    /**
     * After the head: chooses this stream's path (see the class doc) and counts the stream on it. Raw
     * chunks need a plain chunked HTTP/1.1 response whose body no handler transforms (writes made from
     * the encoder's context skip the encoder and reach the socket as they are); direct socket writes need,
     * in addition, the epoll transport and no outbound handler (TLS, traffic shaping) between the encoder
     * and the socket.
     */
    private void choosePath() {
        String why;
        WritePath chosen = WritePath.VERTX;
        Channel ch = null;
        ChannelHandlerContext enc = null;
        if (!transport.rawAllowed()) {
            why = "the HTTP access log is on";
        } else if (request.version() != HttpVersion.HTTP_1_1) {
            why = request.version() == HttpVersion.HTTP_2 ? "HTTP/2" : "an HTTP/1.0 client";
        } else if (!response.isChunked() || response.closed()) {
            why = "the response is not chunked or already closed";
        } else if (!(request.connection() instanceof ConnectionBase base)) {
            why = "no Netty channel under the connection";
        } else {
            ch = base.channel();
            ChannelPipeline pipeline = ch.pipeline();
            enc = pipeline.context(HttpResponseEncoder.class);
            if (pipeline.get(HttpContentEncoder.class) != null) {
                why = "HTTP compression is on (quarkus.http.enable-compression)";
            } else if (enc == null) {
                why = "no HTTP/1.1 encoder in the pipeline " + pipeline.names();
            } else if (transport.epoll() && ch instanceof AbstractEpollStreamChannel epoll && directToSocket(pipeline, enc)) {
                chosen = WritePath.SOCKET;
                fd = epoll.fd();
                why = "plain HTTP/1.1 on the epoll transport";
            } else {
                chosen = WritePath.BELOW_ENCODER;
                why = transport.epoll() ? "an outbound handler (TLS) sits between the encoder and the socket: " + pipeline.names()
                        : "the NIO transport (no direct socket writes)";
            }
        }
        if (chosen.raw()) {
            encoder = enc;
            // The head is out and nothing reads these maps again (keep-alive was decided when the request
            // came in; the hub copied what it keeps): an idle stream should not hold a dozen header entries.
            response.headers().clear();
            request.headers().clear();
        }
        path = chosen;
        if (COUNTED.compareAndSet(this, NOT_COUNTED, COUNTED_OPEN)) {
            transport.chosen(chosen, why);
        }
    }

    /** Whether the HTTP encoder is the last outbound handler before the socket. */
    private static boolean directToSocket(ChannelPipeline pipeline, ChannelHandlerContext encoder) {
        for (Map.Entry<String, ChannelHandler> h : pipeline) {
            if (h.getValue() == encoder.handler()) {
                return true;
            }
            if (h.getValue() instanceof ChannelOutboundHandler) {
                return false; // e.g. TLS: bytes must pass through it
            }
        }
        return false;
    }

    /** The stream ended (whatever ended it): it no longer counts on its path. Idempotent. */
    void released() {
        closing = true;
        if ((int) COUNTED.getAndSet(this, RELEASED) == COUNTED_OPEN) {
            transport.released(path);
        }
    }

    @Override
    public void close() {
        closing = true;
        Channel ch = nettyChannel();
        if (ch != null && !ch.isActive()) {
            // The client is gone and Vert.x has not yet seen the connection close (a write just failed):
            // ending the response now would write to a closed socket. Once the loop has handled the close,
            // the sink sees a closed response and only releases the stream.
            ch.eventLoop().execute(sink::close);
        } else {
            sink.close();
        }
    }

    @Override
    public void closeConnection() {
        close();
        Channel ch = nettyChannel();
        if (ch != null) {
            // After the response's last chunk, which close() queued on the loop before this task.
            ch.eventLoop().execute(() -> ch.close());
        }
    }

    private Channel nettyChannel() {
        if (encoder != null) {
            return encoder.channel();
        }
        return request.connection() instanceof ConnectionBase base ? base.channel() : null;
    }

    @Override
    public void abort() {
        closing = true;
        try {
            response.close();
        } finally {
            sink.close();
        }
    }
}
