package dev.ssehub.hub;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The recent events, for Last-Event-ID replay: a ring of at most {@code size} events, at most
 * {@code maxBytes} of wire bytes in all, none older than {@code maxAge}. It holds the same {@link Event}
 * objects (and so the same wire bytes) that live delivery writes, so history costs one reference per
 * event beyond the events themselves.
 *
 * <p>Every event gets a position (0, 1, 2, …) in publish order; a replaying connection keeps a cursor
 * position and reads forward in chunks. Thread-safe; appends come from the single publish path.
 */
public final class ReplayLog {

    private final Event[] ring;
    private final long maxAgeMillis;
    private final long maxBytes;
    /** Wire bytes of the events held. */
    private long bytes;
    /** Events before this id are not in this log, and may never have been (they predate this history). */
    private EventId historyStart;
    private long first;
    private long next;
    /** The newest event evicted so far: a client that saw only ids before it has missed something. */
    private EventId lastEvicted;

    public ReplayLog(int size, long maxAgeMillis, long maxBytes, EventId historyStart) {
        this.ring = new Event[size];
        this.maxAgeMillis = maxAgeMillis;
        this.maxBytes = maxBytes;
        this.historyStart = historyStart;
    }

    /** Where a client that last saw {@code lastSeen} starts, and whether it missed events we no longer hold. */
    public record Start(long position, boolean truncated, EventId oldest) {
    }

    /** A chunk of matching events, the position to read from next, and whether the cursor fell off the log. */
    public record Chunk(List<Event> events, long next, boolean fellBehind, EventId oldest) {
    }

    public synchronized void append(Event event, long nowMillis) {
        if (ring.length == 0) {
            lastEvicted = event.id();
            event.position = next++;
            first = next;
            return;
        }
        if (next - first == ring.length) {
            evictFirst();
        }
        event.position = next;
        ring[(int) (next % ring.length)] = event;
        next++;
        bytes += event.wire().length();
        while (bytes > maxBytes) {
            evictFirst();
        }
        evictExpired(nowMillis);
    }

    public synchronized void evictExpired(long nowMillis) {
        long cutoff = nowMillis - maxAgeMillis;
        while (first < next && slot(first).timestamp().toEpochMilli() < cutoff) {
            evictFirst();
        }
    }

    private void evictFirst() {
        int i = (int) (first % ring.length);
        lastEvicted = ring[i].id();
        bytes -= ring[i].wire().length();
        ring[i] = null;
        first++;
    }

    private Event slot(long position) {
        return ring[(int) (position % ring.length)];
    }

    /** The position after the newest event: where a live-only reader starts. */
    public synchronized long head() {
        return next;
    }

    public synchronized Start startAfter(EventId lastSeen) {
        EventId oldest = oldestHeld();
        boolean truncated = lastSeen.compareTo(historyStart) < 0
                || (lastEvicted != null && lastSeen.compareTo(lastEvicted) < 0);
        // First position whose id is after lastSeen (ids increase with position).
        long lo = first;
        long hi = next;
        while (lo < hi) {
            long mid = (lo + hi) >>> 1;
            if (slot(mid).id().isAfter(lastSeen)) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return new Start(lo, truncated, oldest);
    }

    /**
     * Up to {@code maxEvents} events, and at most {@code maxBytes} of wire bytes unless the first event
     * alone is larger, at or after {@code from} that pass {@code filter}, scanning at most {@code maxScan}
     * positions so one reader never holds the log for long.
     */
    public synchronized Chunk read(long from, int maxEvents, int maxScan, long maxBytes, Predicate<Event> filter) {
        boolean fellBehind = from < first;
        long pos = Math.max(from, first);
        long end = Math.min(next, pos + maxScan);
        List<Event> out = new ArrayList<>(Math.min(maxEvents, (int) (end - pos)));
        long taken = 0;
        while (pos < end && out.size() < maxEvents) {
            Event e = slot(pos);
            if (filter.test(e)) {
                int n = e.wire().length();
                if (!out.isEmpty() && taken + n > maxBytes) {
                    break;
                }
                out.add(e);
                taken += n;
            }
            pos++;
        }
        return new Chunk(out, pos, fellBehind, oldestHeld());
    }

    private EventId oldestHeld() {
        return first < next ? slot(first).id() : null;
    }

    public synchronized int size() {
        return (int) (next - first);
    }

    /** Wire bytes of the events held. */
    public synchronized long bytes() {
        return bytes;
    }

    /** Whether the event at this position is still held. */
    public synchronized boolean holds(long position) {
        return position >= first && position < next;
    }

    /**
     * History starts again at {@code start} (the backplane lost its data or restarted its history): the
     * events held are dropped, and a client resuming from before {@code start} is told it missed events.
     */
    public synchronized void restart(EventId start) {
        clear();
        historyStart = start;
    }

    public synchronized void clear() {
        // lastEvicted stays: a client holding an id from before the clear is told it missed events.
        while (first < next) {
            evictFirst();
        }
    }
}
