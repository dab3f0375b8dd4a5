package dev.ssehub.hub;

import java.util.List;
import java.util.function.Consumer;

/**
 * The transport under one connection, as the hub sees it: bytes out, close, and the thread that owns
 * the connection. The HTTP layer implements it; the hub never sees HTTP types.
 *
 * <p>Threading contract: {@link #write} is only called from tasks run by {@link #execute}, at most one
 * write pending at a time. {@link #close} and {@link #abort} may be called from any thread, more than
 * once.
 */
public interface SseChannel {

    /** Runs the task later on the thread that owns this connection (its event loop), in submission order. */
    void execute(Runnable task);

    /**
     * Writes the frames as one write. Returns true when every byte was handed to the network before
     * returning; {@code done} is then not called. Otherwise {@code done} is called exactly once, now or
     * later, with {@code null} once written or with the failure. The channel does not keep {@code frames}.
     */
    boolean write(List<Frame> frames, Consumer<Throwable> done);

    /** Ends the stream cleanly (the client sees the end of the response and reconnects). */
    void close();

    /** Drops the TCP connection at once, discarding whatever is still buffered (a stalled client). */
    void abort();
}
