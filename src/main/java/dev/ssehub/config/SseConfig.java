package dev.ssehub.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import dev.ssehub.hub.HubSettings.HeartbeatMode;
import dev.ssehub.hub.HubSettings.SlowConsumerPolicy;
import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

/**
 * Every {@code sse.*} key of the service, with its default. Each key can also be set by environment
 * variable ({@code sse.max-clients} → {@code SSE_MAX_CLIENTS}). {@link ConfigCheck} says what each key
 * allows; an invalid value stops start-up with one line naming the key, the value and what is allowed.
 */
@ConfigMapping(prefix = "sse")
public interface SseConfig {

    Heartbeat heartbeat();

    /** Reconnection delay sent to clients in the {@code retry:} field of the first frame. */
    @WithDefault("3s")
    Duration retry();

    /** {@link #retry()} in whole seconds, at least 1: the {@code Retry-After} of refusals that last no set time. */
    default int retryAfterSeconds() {
        return (int) Math.max(1, retry().toSeconds());
    }

    /** A connection whose write has been pending this long is considered dead and closed. */
    @WithName("client-timeout")
    @WithDefault("120s")
    Duration clientTimeout();

    /** Streams this instance holds at most; the next one gets 503 with Retry-After. */
    @WithName("max-clients")
    @WithDefault("10000")
    int maxClients();

    /** Streams one user id may hold at once; the next one gets 429 with Retry-After. */
    @WithName("max-connections-per-user")
    @WithDefault("5")
    int maxConnectionsPerUser();

    /** Events (and heartbeats) one connection may have queued while its previous write is pending. */
    @WithName("queue-size")
    @WithDefault("256")
    int queueSize();

    /**
     * Bytes of frames one connection may have queued while its previous write is pending (each event
     * counted once per stream, however many streams share it). As large as one batch by default, so that a
     * client that lags a moment behind a batch is not cut; what many slow streams pin together is bounded
     * by {@link #queueTotalBytes()}.
     */
    @WithName("queue-bytes")
    @WithDefault("16M")
    MemorySize queueBytes();

    /**
     * Bytes of events waiting in all outboxes together, each event counted once; above it, streams that
     * are behind take no more events (their slow-consumer policy applies).
     */
    @WithName("queue-total-bytes")
    @WithDefault("128M")
    MemorySize queueTotalBytes();

    /**
     * Largest body of one publish request (a batch of events), and of any other request (a subscription
     * change); larger gets 413, declared or as it arrives. It is also the HTTP server's body limit
     * ({@code quarkus.http.limits.max-body-size}), and at most 64M ({@code quarkus.rest.input-buffer-size}).
     */
    @WithName("max-batch-bytes")
    @WithDefault("16M")
    MemorySize maxBatchBytes();

    /** What a full outbox does: {@code disconnect} (reconnect and replay, nothing lost) or {@code drop-oldest}. */
    @WithName("slow-consumer")
    @WithDefault("disconnect")
    SlowConsumerPolicy slowConsumer();

    /** Largest encoded JSON of an event's {@code data}, in bytes; larger gets 413. */
    @WithName("max-event-bytes")
    @WithDefault("65536")
    int maxEventBytes();

    /** Timeouts and connection caps of the HTTP layer, for the phases a client controls. */
    Http http();

    Replay replay();

    Shutdown shutdown();

    /** Enables {@code POST /api/sse/test-event} and {@code POST /api/sse/reset}. */
    @WithName("dev-endpoints")
    @WithDefault("false")
    boolean devEndpoints();

    Auth auth();

    Publish publish();

    Connect connect();

    Cors cors();

    /**
     * Where events go between instances: {@code memory} (this process only) or {@code redis} (one Redis
     * Stream shared by every instance; the client is configured by {@code quarkus.redis.*}).
     */
    @WithDefault("memory")
    BackplaneKind backplane();

    Redis redis();

    interface Heartbeat {
        /** How often every stream gets a heartbeat; keep it below every proxy's read timeout. */
        @WithDefault("15s")
        Duration interval();

        /** {@code event} (an {@code event: heartbeat} frame) or {@code comment} ({@code : heartbeat}). */
        @WithDefault("event")
        HeartbeatMode mode();
    }

    interface Http {
        /** A request line and its headers must arrive within this, from the connection or the request's first byte. */
        @WithName("header-timeout")
        @WithDefault("10s")
        Duration headerTimeout();

        /** A request body must arrive within this, extended by one second per {@code body-min-rate} bytes received. */
        @WithName("body-timeout")
        @WithDefault("10s")
        Duration bodyTimeout();

        /** Bytes per second a request body must keep up, beyond {@code body-timeout}. */
        @WithName("body-min-rate")
        @WithDefault("16384")
        int bodyMinRate();

        /**
         * Connections that carry no stream (waiting for a request, reading or answering one, idle): at most this
         * many. Absent: {@link #DEFAULT_MAX_PENDING} or {@code sse.max-clients} if larger, so that every client of a
         * full instance can reconnect at once and publishers still find room on a small one.
         */
        @WithName("max-pending")
        OptionalInt maxPending();

        int DEFAULT_MAX_PENDING = 4096;

        /** {@link #maxPending()}, or its default for these {@code maxClients}. */
        default int maxPending(int maxClients) {
            return maxPending().orElse(Math.max(DEFAULT_MAX_PENDING, maxClients));
        }

        /** Connections without a stream from one client address: at most this many; more are closed at once. */
        @WithName("max-pending-per-address")
        @WithDefault("1024")
        int maxPendingPerAddress();

        /**
         * Bytes of request bodies being read at once, by their declared length (a body without one, chunked,
         * counts as {@code sse.max-batch-bytes}); a body that does not fit gets 503. Bodies larger than one event
         * ({@code sse.max-event-bytes} + 1K) may fill all but the last {@code sse.max-batch-bytes} of it, which
         * stay for single events. Bounds the memory uploads in progress hold, whatever their number.
         */
        @WithName("body-total-bytes")
        @WithDefault("64M")
        MemorySize bodyTotalBytes();
    }

    interface Replay {
        /** Events kept for Last-Event-ID replay. */
        @WithDefault("10000")
        int size();

        /** Wire bytes kept for replay (ids, types and data of the events held). */
        @WithName("max-bytes")
        @WithDefault("64M")
        MemorySize maxBytes();

        /** Oldest event kept for replay. */
        @WithName("max-age")
        @WithDefault("5m")
        Duration maxAge();
    }

    interface Redis {
        /** The hash tag of every key the service keeps in Redis: {@code {sse}:events}, {@code {sse}:epoch}, ... */
        @WithDefault("sse")
        String prefix();

        /** How long one read of the stream blocks; below the client's command timeout ({@code quarkus.redis.timeout}). */
        @WithDefault("2s")
        Duration block();
    }

    interface Shutdown {
        /** Period over which streams are closed on SIGTERM, so clients reconnect spread out. */
        @WithDefault("5s")
        Duration drain();
    }

    interface Auth {
        /**
         * Whether every API call needs a JWT (verified through {@code mp.jwt.verify.*}). The user id then comes
         * from the token only. On by default, so a deployment is secure unless it says otherwise; the dev and
         * test profiles turn it off.
         */
        @WithDefault("true")
        boolean enabled();

        /** The cookie a browser may carry its token in (after the Authorization header and the access_token parameter). */
        @WithDefault("sse_token")
        String cookie();

        /** Streams are closed (with {@code token_expired}) at most this long after they opened, even if the token lives longer. */
        @WithName("max-stream-lifetime")
        Optional<Duration> maxStreamLifetime();
    }

    interface Publish {
        /** Events per second one publisher may publish (token bucket refill); 0 turns the limit off. */
        @WithDefault("1000")
        double rate();

        /** Events one publisher may publish at once (token bucket size). */
        @WithDefault("2000")
        int burst();
    }

    interface Connect {
        /** Stream opens per second per client address (a bucket of one second's worth); 0 turns the limit off. */
        @WithDefault("100")
        double rate();
    }

    interface Cors {
        /** Origins allowed to open streams from a browser on another origin. */
        Optional<List<String>> origins();
    }

    enum BackplaneKind {
        MEMORY, REDIS
    }
}
