package dev.ssehub.hub;

import java.util.function.Function;

/**
 * The bytes of one SSE frame (an event, or a control frame such as a heartbeat), encoded once, plus one
 * slot where the transport keeps its own form of them (e.g. an HTTP/1.1 chunk in direct memory), built
 * the first time any connection writes the frame and then shared by every other connection.
 */
public final class Frame {

    private final byte[] bytes;
    private volatile Object encoded;

    public Frame(byte[] bytes) {
        this.bytes = bytes;
    }

    /** The frame as it appears in the {@code text/event-stream}; callers must not modify it. */
    public byte[] bytes() {
        return bytes;
    }

    public int length() {
        return bytes.length;
    }

    /**
     * The transport's form of this frame: built by {@code encoder} on first use and kept. Two threads may
     * both build it the first time; either result is kept, so the encoder must be pure.
     */
    @SuppressWarnings("unchecked")
    public <T> T encoded(Function<Frame, T> encoder) {
        Object e = encoded;
        if (e == null) {
            e = encoder.apply(this);
            encoded = e;
        }
        return (T) e;
    }
}
