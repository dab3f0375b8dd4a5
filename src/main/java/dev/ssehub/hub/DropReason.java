package dev.ssehub.hub;

/** Why an event queued to a stream was not written to it; the {@code reason} label of {@code sse_events_dropped_total}. */
public enum DropReason {
    /** Pushed out of a full outbox under {@code sse.slow-consumer=drop-oldest}. */
    SLOW_CONSUMER("slow_consumer"),
    /** Still queued when its stream closed (a resuming client replays it). */
    CONNECTION_CLOSED("connection_closed");

    private final String label;

    DropReason(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
