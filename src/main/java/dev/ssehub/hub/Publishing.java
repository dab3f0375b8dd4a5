package dev.ssehub.hub;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The publish path on this instance: drafts go to the {@link Backplane}, which numbers them and keeps
 * idempotency; every event it hands back ({@link #deliver}) is appended to the replay log and offered to
 * the matching streams.
 *
 * <p>Delivery is ordered by one lock: each event is appended to the log and offered to its streams under
 * {@link #lock}, so every stream sees events in id order, and a resuming stream switches from log replay
 * to live delivery under the same lock ({@link Replay#goLive}) with no gap and no duplicate. The lock is
 * never held across I/O: offering only queues bytes (the writes happen on each stream's own event loop),
 * and publishing waits for the backplane without it.
 */
final class Publishing implements Backplane.Receiver {

    private final Object lock = new Object();
    private final ReplayLog log;
    private final Backplane backplane;
    private final ConnectionRegistry registry;
    private final HubListener listener;

    Publishing(ReplayLog log, Backplane backplane, ConnectionRegistry registry, HubListener listener) {
        this.log = log;
        this.backplane = backplane;
        this.registry = registry;
        this.listener = listener;
    }

    /** The lock every change to the log and every switch to live delivery holds. */
    Object lock() {
        return lock;
    }

    CompletionStage<List<Backplane.Published>> publish(List<Event.Draft> drafts) {
        return backplane.publish(drafts);
    }

    /** The backplane's receiver: log the event, then queue it to every matching live stream. */
    @Override
    public int deliver(Event e) {
        synchronized (lock) {
            log.append(e, e.timestamp().toEpochMilli());
            listener.published(Math.max(0, System.currentTimeMillis() - e.timestamp().toEpochMilli()));
            int delivered = 0;
            for (Connection c : registry.candidates(e.target())) {
                if (c.accepts(e) && c.offer(e)) {
                    delivered++;
                }
            }
            return delivered;
        }
    }

    @Override
    public void history(Event e) {
        synchronized (lock) {
            log.append(e, System.currentTimeMillis());
        }
    }

    @Override
    public void restart(EventId historyStart) {
        synchronized (lock) {
            log.restart(historyStart);
        }
    }

    /** Ages the log (when nothing is published, nothing else does). */
    void expire(long nowMillis) {
        synchronized (lock) {
            log.evictExpired(nowMillis);
        }
    }

    /** Forgets every event (development reset). */
    void clear() {
        synchronized (lock) {
            log.clear();
        }
    }
}
