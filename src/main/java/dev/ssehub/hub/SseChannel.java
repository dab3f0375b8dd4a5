package dev.ssehub.hub;

import java.util.List;
import java.util.function.Consumer;

/**
 * The transport under one stream, as the hub sees it: bytes out, close, and the thread that owns the
 * stream. The transport layer implements it; the hub never sees HTTP types.
 *
 * <p>Threading: {@link #write} is only called from tasks run by {@link #execute}, with at most one write
 * pending at a time (the next write starts after the previous one completed). {@link #close} and
 * {@link #abort} may be called from any thread, more than once, also while a write is pending.
 *
 * <p>Failures: a write that cannot complete reports its cause through {@code done}; it never throws.
 * {@link #classify} tells the hub what a failure means, so that a client going away is not mistaken for
 * a fault of the service and a fault is not hidden as a client going away.
 */
public interface SseChannel {

    /** Runs the task later on the thread that owns this stream (its event loop), in submission order. */
    void execute(Runnable task);

    /**
     * Writes the frames as one write. Returns true when every byte was handed to the network before
     * returning; {@code done} is then not called. Otherwise {@code done} is called exactly once, now or
     * later, with {@code null} once written or with the failure. The channel keeps neither {@code frames}
     * (the list may be reused by the caller) nor modifies the frames' bytes (they are shared).
     */
    boolean write(List<Frame> frames, Consumer<Throwable> done);

    /** What a failure reported to a write's {@code done} means. */
    DeliveryError classify(Throwable failure);

    /** Ends the stream cleanly (the client sees the end of the response and reconnects). */
    void close();

    /**
     * Ends the stream cleanly, then closes the connection under it, so that the client's reconnection
     * opens a new connection (behind a load balancer, possibly to another instance) instead of reusing
     * this one. By default the same as {@link #close}.
     */
    default void closeConnection() {
        close();
    }

    /** Drops the TCP connection at once, discarding whatever is still buffered (a stalled client). */
    void abort();
}
