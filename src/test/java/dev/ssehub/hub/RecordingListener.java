package dev.ssehub.hub;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** A {@link HubListener} that counts what the hub reports, by kind and reason; thread-safe. */
final class RecordingListener implements HubListener {

    private final Map<Object, LongAdder> counts = new ConcurrentHashMap<>();

    private void add(Object key, long n) {
        counts.computeIfAbsent(key, k -> new LongAdder()).add(n);
    }

    private long get(Object key) {
        LongAdder a = counts.get(key);
        return a == null ? 0 : a.sum();
    }

    @Override
    public void opened() {
        add("opened", 1);
    }

    @Override
    public void rejected(ConnectionRegistry.Rejection reason) {
        add(reason, 1);
    }

    @Override
    public void closed(CloseReason reason) {
        add(reason, 1);
        add("closed", 1);
    }

    @Override
    public void published(long backplaneLatencyMillis) {
        add("published", 1);
    }

    @Override
    public void delivered(int events, int replayed, long oldestPublishedNanos) {
        add("delivered", events);
        add("replayed", replayed);
    }

    @Override
    public void dropped(DropReason reason, int events) {
        add(reason, events);
    }

    @Override
    public void deliveryError(DeliveryError kind) {
        add(kind, 1);
        add("deliveryErrors", 1);
    }

    @Override
    public void heartbeats(int queued) {
        add("heartbeats", queued);
    }

    long openedStreams() {
        return get("opened");
    }

    long rejectedFor(ConnectionRegistry.Rejection reason) {
        return get(reason);
    }

    long closedBy(CloseReason reason) {
        return get(reason);
    }

    /** Streams closed, whatever the reason. */
    long closedStreams() {
        return get("closed");
    }

    long publishedEvents() {
        return get("published");
    }

    /** Events written to streams, live or replayed. */
    long deliveredEvents() {
        return get("delivered");
    }

    long replayedEvents() {
        return get("replayed");
    }

    long droppedFor(DropReason reason) {
        return get(reason);
    }

    long errorsOf(DeliveryError kind) {
        return get(kind);
    }

    /** Failed writes, whatever the kind. */
    long deliveryErrors() {
        return get("deliveryErrors");
    }

    long heartbeatsQueued() {
        return get("heartbeats");
    }
}
