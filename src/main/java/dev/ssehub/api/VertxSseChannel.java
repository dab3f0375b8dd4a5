package dev.ssehub.api;

import java.util.List;
import java.util.function.Consumer;

import jakarta.ws.rs.sse.SseEventSink;

import dev.ssehub.hub.SseChannel;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;

/**
 * A stream's transport: the JAX-RS {@link SseEventSink} for its lifecycle (the broadcaster sees every
 * close) and the Vert.x response underneath for the bytes, so one event's pre-encoded frame is written
 * to every stream as is, wrapped without a copy, instead of being formatted again per stream.
 */
final class VertxSseChannel implements SseChannel {

    private final HttpServerResponse response;
    private final SseEventSink sink;
    private final EventLoop loop;

    VertxSseChannel(HttpServerResponse response, SseEventSink sink, EventLoop loop) {
        this.response = response;
        this.sink = sink;
        this.loop = loop;
    }

    @Override
    public void execute(Runnable task) {
        loop.execute(task);
    }

    @Override
    public void write(List<byte[]> frames, Consumer<Throwable> done) {
        Buffer buffer = frames.size() == 1
                ? Buffer.buffer(Unpooled.wrappedBuffer(frames.get(0)))
                : Buffer.buffer(Unpooled.wrappedBuffer(frames.toArray(new byte[0][])));
        try {
            response.write(buffer, ar -> done.accept(ar.succeeded() ? null : ar.cause()));
        } catch (IllegalStateException closed) {
            // The response was closed under us (client gone): same as a failed write.
            done.accept(closed);
        }
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
}
