package dev.ssehub.hub;

import dev.ssehub.hub.HubSettings.SlowConsumerPolicy;

/**
 * How much one stream may have waiting, shared by every {@link Connection} (one object, not four fields
 * per stream).
 *
 * <p>A stream is full when {@code frames} frames or {@code bytes} bytes wait behind a write its client
 * has not taken yet, or, for events, when it is behind and the outboxes of all streams together hold
 * more than the {@link OutboxBudget}. Frames that only wait for the event loop to come round (a burst,
 * such as one batch publish) are not the client's fault: while no write is pending they may reach
 * {@code frames + Connection.MAX_BURST} frames and {@code bytes + burstBytes} bytes.
 *
 * @param frames     {@code sse.queue-size}
 * @param bytes      {@code sse.queue-bytes}
 * @param burstBytes the most one publish call can queue at once ({@code sse.max-batch-bytes})
 * @param policy     what a full outbox does
 * @param budget     the bytes waiting across all streams
 */
public record OutboxLimits(int frames, long bytes, long burstBytes, SlowConsumerPolicy policy, OutboxBudget budget) {
}
