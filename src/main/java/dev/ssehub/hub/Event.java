package dev.ssehub.hub;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Instant;

/**
 * A published event: its id, type, target, and the wire bytes (with the data as one line of JSON),
 * encoded once and shared by every connection and by the replay log. The data is kept only inside the
 * wire bytes: one copy per event, however many streams and logs hold it.
 */
public final class Event {

    private static final VarHandle QUEUED_BY;
    static {
        try {
            QUEUED_BY = MethodHandles.lookup().findVarHandle(Event.class, "queuedBy", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final EventId id;
    /** {@code id.toString()}, kept: every write records the stream's last event id. */
    private final String idString;
    private final String type;
    private final Target target;
    private final String idempotencyKey;
    private final Instant timestamp;
    private final long publishedNanos;
    private final Frame wire;
    /** Position in the replay log; set once when the log takes the event. */
    long position = -1;
    /** Outboxes this event waits in; see {@link OutboxBudget}. */
    @SuppressWarnings("unused")
    private volatile int queuedBy;

    public Event(EventId id, Draft draft, Instant timestamp, long publishedNanos) {
        this.id = id;
        this.idString = id.toString();
        this.type = draft.type();
        this.target = draft.target();
        this.idempotencyKey = draft.idempotencyKey();
        this.timestamp = timestamp;
        this.publishedNanos = publishedNanos;
        this.wire = new Frame(WireFormat.event(idString, type, draft.dataJson()));
    }

    public EventId id() {
        return id;
    }

    public String idString() {
        return idString;
    }

    public String type() {
        return type;
    }

    public Target target() {
        return target;
    }

    public String idempotencyKey() {
        return idempotencyKey;
    }

    public Instant timestamp() {
        return timestamp;
    }

    public long publishedNanos() {
        return publishedNanos;
    }

    public Frame wire() {
        return wire;
    }

    /** One more outbox holds this event; true for the first. */
    boolean retain() {
        return (int) QUEUED_BY.getAndAdd(this, 1) == 0;
    }

    /** One outbox less holds this event; true for the last. */
    boolean release() {
        return (int) QUEUED_BY.getAndAdd(this, -1) == 1;
    }

    /**
     * What a publisher asks for, validated at the edge: {@code type} matches
     * {@link WireFormat#TYPE_PATTERN}, {@code dataJson} is one line of JSON.
     */
    public record Draft(String type, String dataJson, Target target, String idempotencyKey) {
        public Draft {
            if (!WireFormat.isValidType(type)) {
                throw new IllegalArgumentException("invalid event type");
            }
            if (dataJson.indexOf('\n') >= 0 || dataJson.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("data must be one line of JSON");
            }
            target = target == null ? Target.BROADCAST : target;
        }
    }
}
