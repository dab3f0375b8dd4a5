package dev.ssehub.hub;

/** Why a stream ended; the value is the {@code reason} label of {@code sse_connections_closed_total}. */
public enum CloseReason {
    /** The client went away (socket closed or reset). */
    CLIENT("client"),
    /** An operator closed it ({@code DELETE /api/sse/connections/{id}}). */
    ADMIN("admin"),
    /** Its outbox overflowed under {@code sse.slow-consumer=disconnect}. */
    SLOW_CONSUMER("slow_consumer"),
    /** A write stayed pending longer than {@code sse.client-timeout}. */
    TIMEOUT("timeout"),
    /** A write failed for a reason on the service's side (not the client going away). */
    WRITE_ERROR("write_error"),
    /** The service failed while opening the stream; it is closed so it holds no slot. */
    ERROR("error"),
    /**
     * Its end time came: the token's {@code exp} or {@code sse.auth.max-stream-lifetime}. The client got
     * {@code token_expired} first and reconnects with a fresh token.
     */
    EXPIRED("expired"),
    /** The service is shutting down. */
    SHUTDOWN("shutdown"),
    /** {@code POST /api/sse/reset} (dev and test only). */
    RESET("reset");

    private final String label;

    CloseReason(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
