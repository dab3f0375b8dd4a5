package dev.ssehub.hub;

/**
 * What the hub reports as it works: implemented by the metrics layer, so the domain imports no
 * metrics library. Called on hot paths (publish, every write) and from any thread: implementations
 * must be cheap and thread-safe, and must not call back into the hub.
 */
public interface HubListener {

    /** A stream was opened. */
    void opened();

    /** A stream was refused at a limit. */
    void rejected(ConnectionRegistry.Rejection reason);

    /** A stream ended. */
    void closed(CloseReason reason);

    /**
     * An event reached this instance from the backplane (once per event, whichever instance published it),
     * {@code backplaneLatencyMillis} after the backplane accepted it.
     */
    void published(long backplaneLatencyMillis);

    /**
     * A write completed: {@code events} events reached the stream's socket, {@code replayed} of them from
     * the replay log; {@code oldestPublishedNanos} is the publish time of the oldest live event in it, or 0.
     */
    void delivered(int events, int replayed, long oldestPublishedNanos);

    /** Events queued to a stream that will not be written to it. */
    void dropped(DropReason reason, int events);

    /** A write failed. */
    void deliveryError(DeliveryError kind);

    /** Heartbeats queued at one tick. */
    void heartbeats(int queued);

    /** A listener that ignores everything (tests of the domain, tools). */
    HubListener NONE = new HubListener() {
        @Override
        public void opened() {
        }

        @Override
        public void rejected(ConnectionRegistry.Rejection reason) {
        }

        @Override
        public void closed(CloseReason reason) {
        }

        @Override
        public void published(long backplaneLatencyMillis) {
        }

        @Override
        public void delivered(int events, int replayed, long oldestPublishedNanos) {
        }

        @Override
        public void dropped(DropReason reason, int events) {
        }

        @Override
        public void deliveryError(DeliveryError kind) {
        }

        @Override
        public void heartbeats(int queued) {
        }
    };
}
