package dev.ssehub.hub;

import java.util.concurrent.atomic.LongAdder;

/**
 * The bytes of events waiting in stream outboxes, across all streams, each event counted once however
 * many outboxes hold it (an event shared by 10,000 streams is 10,000 references to one copy). Events
 * count from the moment the first outbox takes them until the last one hands them to a write.
 *
 * <p>Over {@code limit}, streams that are behind (a write pending that their client has not taken)
 * take no more events: their slow-consumer policy applies. Streams that keep up still get everything,
 * so the budget sheds the slow clients that hold memory, not the fast ones.
 */
public final class OutboxBudget {

    private final long limit;
    private final LongAdder bytes = new LongAdder();

    public OutboxBudget(long limit) {
        this.limit = limit;
    }

    void retain(Event e) {
        if (e.retain()) {
            bytes.add(e.wire().length());
        }
    }

    void release(Event e) {
        if (e.release()) {
            bytes.add(-e.wire().length());
        }
    }

    /** Whether the outboxes hold more than the limit (read on the offer path of streams that are behind). */
    boolean exceeded() {
        return bytes.sum() > limit;
    }

    /** Bytes of distinct events waiting in outboxes now. */
    public long bytes() {
        return bytes.sum();
    }

    public long limit() {
        return limit;
    }
}
