package dev.ssehub.transport;

import java.io.IOException;
import java.net.SocketException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.sse.SseEventSink;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import dev.ssehub.hub.DeliveryError;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Errors;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.impl.ContextInternal;

/**
 * Makes the channel under each stream and keeps the transport's books: how many open streams take each
 * {@link WritePath}, and how often a raw write had to fall back to the Vert.x response. See
 * {@link VertxSseChannel} for the write paths and their invariants, and docs/architecture.md.
 */
@ApplicationScoped
public class StreamTransport {

    private static final Logger LOG = Logger.getLogger(StreamTransport.class);

    /** Why a raw write went through the Vert.x response instead; the {@code reason} label of {@code sse_raw_write_fallbacks_total}. */
    public enum Fallback {
        /** Called off the stream's event loop (a bug: writes belong to the loop). */
        OFF_LOOP("off_loop"),
        /** The stream or its connection had closed (a close raced the write). */
        CLOSED("closed");

        private final String label;

        Fallback(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private final AtomicIntegerArray streams = new AtomicIntegerArray(WritePath.values().length);
    private final AtomicIntegerArray logged = new AtomicIntegerArray(WritePath.values().length);
    private final LongAdder[] fallbacks = { new LongAdder(), new LongAdder() };
    private final boolean rawAllowed;
    /** Whether the epoll transport works here; read at run time (a native image must not keep the build machine's answer). */
    private final boolean epoll = epollAvailable();

    /**
     * @param accessLog whether the HTTP access log is on: raw writes would log every stream with the size of
     *                  its head only, so streams then take the Vert.x path
     */
    @Inject
    public StreamTransport(@ConfigProperty(name = "quarkus.http.access-log.enabled", defaultValue = "false") boolean accessLog) {
        this.rawAllowed = !accessLog;
    }

    /**
     * The channel for a stream being opened. Call on the request's event loop (the resource method runs
     * there), which then owns every write to the stream.
     */
    public VertxSseChannel channel(SseEventSink sink, HttpServerRequest request, HttpServerResponse response) {
        ContextInternal context = (ContextInternal) Vertx.currentContext();
        return new VertxSseChannel(request, response, sink, LoopBatcher.of(context.nettyEventLoop()), this);
    }

    /** Open streams that write by this path. */
    public int streams(WritePath path) {
        return streams.get(path.ordinal());
    }

    /** Raw writes that went through the Vert.x response instead, for this reason. */
    public long fallbacks(Fallback reason) {
        return fallbacks[reason.ordinal()].sum();
    }

    boolean rawAllowed() {
        return rawAllowed;
    }

    boolean epoll() {
        return epoll;
    }

    private static boolean epollAvailable() {
        try {
            return Epoll.isAvailable();
        } catch (Throwable t) {
            return false;
        }
    }

    /** A stream took this path; the first stream on each path says so in the log, with why. */
    void chosen(WritePath path, String why) {
        streams.incrementAndGet(path.ordinal());
        if (logged.compareAndSet(path.ordinal(), 0, 1)) {
            LOG.infof("Streams write by the %s path (first such stream: %s); open streams per path: metric "
                    + "sse_streams{path}", path.label(), why);
        }
    }

    void released(WritePath path) {
        streams.decrementAndGet(path.ordinal());
    }

    void fellBack(Fallback reason) {
        fallbacks[reason.ordinal()].increment();
    }

    /**
     * What a write failure means. Client departures come as closed-channel exceptions, resets and broken
     * pipes (from the native transport or the JDK) or Vert.x's "closed" errors; a write that reached a
     * response the server had already ended is a close racing the write. Anything else is unexpected.
     */
    static DeliveryError classify(Throwable t) {
        if (t instanceof OutOfMemoryError) {
            return DeliveryError.MEMORY;
        }
        if (t instanceof ClosedChannelException || t instanceof Errors.NativeIoException
                || t instanceof SocketException) {
            return DeliveryError.CLIENT_GONE;
        }
        if (t instanceof IOException && t.getMessage() != null
                && (t.getMessage().contains("Connection reset") || t.getMessage().contains("Broken pipe"))) {
            return DeliveryError.CLIENT_GONE;
        }
        if (t instanceof VertxException && t.getMessage() != null && t.getMessage().contains("closed")) {
            return DeliveryError.CLIENT_GONE; // e.g. HttpClosedException: "Connection was closed"
        }
        if (t instanceof IllegalStateException && t.getMessage() != null
                && (t.getMessage().contains("already been written") || t.getMessage().contains("closed"))) {
            return DeliveryError.STREAM_CLOSED; // Vert.x: "Response has already been written", "Response is closed"
        }
        return DeliveryError.UNEXPECTED;
    }
}
