package dev.ssehub.hub;

import java.time.Instant;

/**
 * A published event: its id, type, data as one line of JSON, target, and the wire bytes, encoded once
 * and shared by every connection and by the replay log.
 */
public final class Event {

    private final EventId id;
    /** {@code id.toString()}, kept: every write records the stream's last event id. */
    private final String idString;
    private final String type;
    private final String dataJson;
    private final Target target;
    private final String idempotencyKey;
    private final Instant timestamp;
    private final long publishedNanos;
    private final Frame wire;
    /** Position in the replay log; set once when the log takes the event. */
    long position = -1;

    public Event(EventId id, Draft draft, Instant timestamp, long publishedNanos) {
        this.id = id;
        this.idString = id.toString();
        this.type = draft.type();
        this.dataJson = draft.dataJson();
        this.target = draft.target();
        this.idempotencyKey = draft.idempotencyKey();
        this.timestamp = timestamp;
        this.publishedNanos = publishedNanos;
        this.wire = new Frame(WireFormat.event(idString, type, dataJson));
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

    public String dataJson() {
        return dataJson;
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
