package dev.ssehub.backplane;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import dev.ssehub.hub.Backplane;
import dev.ssehub.hub.Event;
import dev.ssehub.hub.EventId;

/**
 * This process only: ids from the local clock, delivery by direct call, idempotency keys in memory. The
 * embedded default. Its history is the hub's own replay log, which starts empty with the process.
 */
public class MemoryBackplane implements Backplane {

    private final EventId.Generator ids = new EventId.Generator();
    /** Idempotency key → the event it produced; in publish order, so the oldest come first. Guarded by this. */
    private final Map<String, Published> byKey = new LinkedHashMap<>();
    private final int maxKeys;
    private final long keyMillis;
    private volatile Receiver receiver;

    /**
     * @param maxKeys   idempotency keys remembered at most (the replay log's event count)
     * @param keyWindow how long a key counts (the replay log's maximum age)
     */
    public MemoryBackplane(int maxKeys, Duration keyWindow) {
        this.maxKeys = maxKeys;
        this.keyMillis = keyWindow.toMillis();
    }

    @Override
    public void start(Receiver receiver) {
        this.receiver = receiver;
        receiver.restart(new EventId(System.currentTimeMillis(), 0));
    }

    @Override
    public synchronized CompletionStage<List<Published>> publish(List<Event.Draft> drafts) {
        List<Published> out = new ArrayList<>(drafts.size());
        for (Event.Draft draft : drafts) {
            long now = System.currentTimeMillis();
            forgetKeys(now);
            String key = draft.idempotencyKey();
            Published earlier = key == null ? null : byKey.get(key);
            if (earlier != null) {
                out.add(new Published(earlier.id(), earlier.type(), earlier.timestamp(), 0, true));
                continue;
            }
            Event event = new Event(ids.next(now), draft, Instant.ofEpochMilli(now), System.nanoTime());
            int delivered = receiver.deliver(event);
            Published p = new Published(event.id(), event.type(), event.timestamp(), delivered, false);
            if (key != null && maxKeys > 0) {
                byKey.put(key, p);
            }
            out.add(p);
        }
        return CompletableFuture.completedFuture(out);
    }

    /** Keys older than the window go, and the oldest beyond the count; holds this. */
    private void forgetKeys(long now) {
        Iterator<Published> it = byKey.values().iterator();
        while (it.hasNext()) {
            Published p = it.next();
            if (byKey.size() <= maxKeys && now - p.timestamp().toEpochMilli() <= keyMillis) {
                break;
            }
            it.remove();
        }
    }

    @Override
    public boolean isUp() {
        return true;
    }

    @Override
    public String name() {
        return "memory";
    }

    @Override
    public String status() {
        return "in this process only";
    }

    @Override
    public void stop() {
        // Nothing to release.
    }

    @Override
    public synchronized CompletionStage<Void> reset() {
        byKey.clear();
        return CompletableFuture.completedFuture(null);
    }
}
