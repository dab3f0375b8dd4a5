package dev.ssehub.transport;

/**
 * How a stream's frames reach its socket after the response head; chosen once per stream, at its first
 * write, by {@link VertxSseChannel}. The value is the {@code path} label of {@code sse_streams}.
 */
public enum WritePath {
    /**
     * One {@code write(2)} of the shared chunk straight on the socket's file descriptor when Netty holds
     * nothing for the connection, else as {@link #BELOW_ENCODER}: plain HTTP/1.1 on the epoll transport.
     */
    SOCKET("socket"),
    /**
     * Ready-made HTTP/1.1 chunks written into the Netty pipeline below the HTTP encoder: plain HTTP/1.1
     * where there is no direct socket (NIO transport) or an outbound handler must see the bytes (TLS).
     */
    BELOW_ENCODER("below_encoder"),
    /**
     * Writes through the Vert.x response: everything else (HTTP/2, HTTP/1.0, compression, the HTTP access
     * log), where the bytes must pass through the HTTP layer's own handlers.
     */
    VERTX("vertx");

    private final String label;

    WritePath(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** Whether frames bypass the Vert.x response (and with it its write-queue accounting and byte counts). */
    boolean raw() {
        return this != VERTX;
    }
}
