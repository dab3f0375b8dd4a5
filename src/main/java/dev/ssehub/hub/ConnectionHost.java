package dev.ssehub.hub;

/**
 * What a {@link Connection} needs from the rest of the hub: its replay source, and where it reports
 * what happened to its writes. Kept narrow so that a connection can be driven on its own (unit tests
 * with a fake {@link SseChannel}). Called from the stream's event loop (writes) and from any thread
 * (offers, closes).
 */
interface ConnectionHost {

    /** The replay this connection reads while it resumes. */
    Replay replay();

    /** A write completed; see {@link HubListener#delivered}. */
    void written(int events, int replayed, long oldestPublishedNanos);

    /** A write failed; the connection closes itself afterwards. */
    void writeFailed(Connection c, DeliveryError kind, Throwable failure);

    /** Its full outbox dropped {@code events} events under drop-oldest ({@code first}: the first time for this connection). */
    void dropped(Connection c, int events, boolean first);

    /** It is ending (see {@link Connection#finish}) and dropped {@code events} queued events that the client will replay. */
    void discarded(int events);

    /** It closed, once, with {@code discardedEvents} events still queued. */
    void closed(Connection c, CloseReason reason, int discardedEvents);
}
