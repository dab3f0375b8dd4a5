package dev.ssehub.hub;

/**
 * Why a write to a stream failed, as the transport classifies it; the {@code reason} label of
 * {@code sse_delivery_errors_total}. Only {@link #UNEXPECTED} points at a fault of the service.
 */
public enum DeliveryError {
    /** The client went away: the connection was closed or reset, or the pipe broke. */
    CLIENT_GONE("client_gone", false),
    /** The stream had already ended when the write reached it (a close raced the write). */
    STREAM_CLOSED("stream_closed", false),
    /** Memory for the write could not be allocated; the stream is closed and resumes by replay. */
    MEMORY("memory", true),
    /** Anything else: a fault in the write path, logged at WARN. */
    UNEXPECTED("unexpected", true);

    private final String label;
    private final boolean serverSide;

    DeliveryError(String label, boolean serverSide) {
        this.label = label;
        this.serverSide = serverSide;
    }

    public String label() {
        return label;
    }

    /** Whether the service, not the client, is the cause (counted in the stats' {@code deliveryErrors}). */
    public boolean serverSide() {
        return serverSide;
    }
}
