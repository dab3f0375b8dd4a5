package dev.ssehub.hub;

import java.time.Duration;

/**
 * The settings the domain works with, handed in by the configuration layer, so the hub reads no
 * configuration framework of its own.
 *
 * @param retry           reconnection delay announced in every stream's first frame
 * @param heartbeatEvery  period of the heartbeat tick
 * @param heartbeatMode   how a heartbeat looks on the wire
 * @param clientTimeout   a stream whose write has been pending this long is closed
 * @param maxClients      streams this instance holds at most
 * @param maxPerUser      streams one user id may hold at once
 * @param queueSize       frames a stream may have waiting behind a write the client has not taken
 * @param queueBytes      bytes a stream may have waiting behind a write the client has not taken
 * @param queueTotalBytes bytes of distinct events waiting in all outboxes before streams that are behind take no more
 * @param maxBatchBytes   the most one publish call can queue to a stream at once
 * @param slowConsumer    what a full outbox does
 * @param replaySize      events kept for Last-Event-ID replay
 * @param replayMaxBytes  wire bytes kept for replay
 * @param replayMaxAge    oldest event kept for replay
 */
public record HubSettings(Duration retry, Duration heartbeatEvery, HeartbeatMode heartbeatMode, Duration clientTimeout,
        int maxClients, int maxPerUser, int queueSize, long queueBytes, long queueTotalBytes, long maxBatchBytes,
        SlowConsumerPolicy slowConsumer, int replaySize, long replayMaxBytes, Duration replayMaxAge) {

    /** How heartbeats look: {@code event: heartbeat} frames, or {@code : heartbeat} comments. */
    public enum HeartbeatMode {
        EVENT, COMMENT
    }

    /** What a full outbox does: cut the stream (it resumes by replay, nothing lost) or drop its oldest frame. */
    public enum SlowConsumerPolicy {
        DISCONNECT, DROP_OLDEST
    }
}
