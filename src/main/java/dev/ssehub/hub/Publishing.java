package dev.ssehub.hub;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The publish path: idempotency, numbering by the {@link Backplane}, and dispatch of each event to the
 * streams it matches.
 *
 * <p>One lock orders everything: a publish checks its idempotency key and hands the draft to the
 * backplane, and each event the backplane delivers is appended to the replay log and offered to the
 * matching streams, all under {@link #lock}. Every stream therefore sees events in id order, and a
 * resuming stream switches from log replay to live delivery under the same lock ({@link Replay#goLive})
 * with no gap and no duplicate. Offering only queues bytes (the writes happen on each stream's own event
 * loop), so the lock is held for the time it takes to queue an event to its streams.
 */
final class Publishing {

    private final Object lock = new Object();
    private final ReplayLog log;
    private final Backplane backplane;
    private final ConnectionRegistry registry;
    private final HubListener listener;
    /** Idempotency key → the event it produced, while that event is in the replay log. Guarded by lock. */
    private final Map<String, Event> byKey = new LinkedHashMap<>();

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

    /** Publishes one event; a repeated idempotency key within the replay window publishes nothing. */
    Hub.PublishResult publish(Event.Draft draft) {
        synchronized (lock) {
            if (draft.idempotencyKey() != null) {
                Event earlier = byKey.get(draft.idempotencyKey());
                if (earlier != null) {
                    return new Hub.PublishResult(earlier, 0, true);
                }
            }
            Backplane.Published p = backplane.publish(draft);
            return new Hub.PublishResult(p.event(), p.delivered(), false);
        }
    }

    /** The backplane's receiver: log the event, then queue it to every matching live stream. */
    int dispatch(Event e) {
        synchronized (lock) {
            log.append(e, e.timestamp().toEpochMilli());
            if (e.idempotencyKey() != null) {
                byKey.put(e.idempotencyKey(), e);
            }
            forgetExpiredKeys();
            listener.published();
            int delivered = 0;
            for (Connection c : registry.candidates(e.target())) {
                if (c.accepts(e) && c.offer(e)) {
                    delivered++;
                }
            }
            return delivered;
        }
    }

    /** Ages the log (when nothing is published, nothing else does) and forgets the keys of aged-out events. */
    void expire(long nowMillis) {
        synchronized (lock) {
            log.evictExpired(nowMillis);
            forgetExpiredKeys();
        }
    }

    /** Forgets every event and key (development reset). */
    void clear() {
        synchronized (lock) {
            log.clear();
            byKey.clear();
        }
    }

    /** Keys are in publish order, so the expired ones are at the front. */
    private void forgetExpiredKeys() {
        Iterator<Event> it = byKey.values().iterator();
        while (it.hasNext()) {
            if (log.holds(it.next().position)) {
                break;
            }
            it.remove();
        }
    }
}
