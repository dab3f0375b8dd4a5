package dev.ssehub.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.Startup;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Fails start-up when an {@code sse.*} value parses but cannot work, with a message that names every
 * offending key. (Unparseable values, e.g. {@code sse.max-clients=lots}, already fail in SmallRye Config
 * with the key named.)
 */
@Singleton
public class ConfigCheck {

    private static final Logger LOG = Logger.getLogger(ConfigCheck.class);

    void onStart(@Observes Startup event, SseConfig config,
            @ConfigProperty(name = "quarkus.http.idle-timeout", defaultValue = "30M") Duration idleTimeout) {
        List<String> problems = problems(config, idleTimeout);
        if (!problems.isEmpty()) {
            throw new IllegalStateException("Invalid SSE Hub configuration: " + String.join("; ", problems));
        }
        LOG.infof("SSE Hub configuration: heartbeat %s (%s), retry %s, client-timeout %s, max-clients %d, "
                + "max-connections-per-user %d, queue-size %d, slow-consumer %s, max-event-bytes %d, "
                + "replay %d events / %s, shutdown drain %s, dev-endpoints %s, auth %s, backplane %s, max-batch-bytes %d, "
                + "http: header-timeout %s, body-timeout %s, body-min-rate %d, max-pending %d (%d per address), "
                + "idle-timeout %s",
                config.heartbeat().interval(), lower(config.heartbeat().mode()), config.retry(), config.clientTimeout(),
                config.maxClients(), config.maxConnectionsPerUser(), config.queueSize(), lower(config.slowConsumer()),
                config.maxEventBytes(), config.replay().size(), config.replay().maxAge(), config.shutdown().drain(),
                config.devEndpoints(), config.auth().enabled() ? "on" : "off", lower(config.backplane()),
                config.maxBatchBytes(), config.http().headerTimeout(), config.http().bodyTimeout(),
                config.http().bodyMinRate(), config.http().maxPending(config.maxClients()),
                config.http().maxPendingPerAddress(),
                idleTimeout);
    }

    /** The build-time quarkus.rest.input-buffer-size: larger bodies would be read by a worker thread. */
    static final int MAX_BATCH_BYTES = 64 * 1024 * 1024;

    static List<String> problems(SseConfig c, Duration idleTimeout) {
        List<String> p = new ArrayList<>();
        if (c.heartbeat().interval().toMillis() < 1000) {
            // Quarkus's scheduler runs every() jobs at a one-second resolution at best.
            p.add("sse.heartbeat.interval must be at least 1s (was " + c.heartbeat().interval() + ")");
        }
        positive(p, "sse.retry", c.retry());
        positive(p, "sse.client-timeout", c.clientTimeout());
        positive(p, "sse.replay.max-age", c.replay().maxAge());
        if (c.shutdown().drain().isNegative()) {
            p.add("sse.shutdown.drain must not be negative (was " + c.shutdown().drain() + ")");
        }
        atLeast(p, "sse.max-clients", c.maxClients(), 1);
        atLeast(p, "sse.max-connections-per-user", c.maxConnectionsPerUser(), 1);
        atLeast(p, "sse.queue-size", c.queueSize(), 1);
        atLeast(p, "sse.max-event-bytes", c.maxEventBytes(), 16);
        atLeast(p, "sse.replay.size", c.replay().size(), 0);
        int minBatch = c.maxEventBytes() + 1024;
        if (c.maxBatchBytes() < minBatch || c.maxBatchBytes() > MAX_BATCH_BYTES) {
            p.add("sse.max-batch-bytes must be from " + minBatch + " (sse.max-event-bytes + 1024, so that an event at "
                    + "that limit fits a request) to " + MAX_BATCH_BYTES + " (quarkus.rest.input-buffer-size) (was "
                    + c.maxBatchBytes() + ")");
        }
        positive(p, "sse.http.header-timeout", c.http().headerTimeout());
        positive(p, "sse.http.body-timeout", c.http().bodyTimeout());
        atLeast(p, "sse.http.body-min-rate", c.http().bodyMinRate(), 1);
        if (c.http().maxPending().isPresent()) {
            atLeast(p, "sse.http.max-pending", c.http().maxPending().getAsInt(), 1);
        }
        atLeast(p, "sse.http.max-pending-per-address", c.http().maxPendingPerAddress(), 1);
        if (!idleTimeout.isZero() && idleTimeout.compareTo(c.heartbeat().interval()) <= 0) {
            // HTTP/2 streams keep their connection active with their heartbeats only.
            p.add("quarkus.http.idle-timeout must be 0 (off) or longer than sse.heartbeat.interval ("
                    + c.heartbeat().interval() + "), else HTTP/2 streams are cut between heartbeats (was " + idleTimeout
                    + ")");
        }
        if (c.backplane() == SseConfig.BackplaneKind.REDIS) {
            p.add("sse.backplane=redis is not available in this version; use memory");
        }
        if (c.auth().enabled()) {
            p.add("sse.auth.enabled=true is not available in this version (JWT support comes later); set SSE_AUTH_ENABLED=false");
        }
        return p;
    }

    private static void positive(List<String> p, String key, Duration d) {
        if (d.isNegative() || d.isZero()) {
            p.add(key + " must be positive (was " + d + ")");
        }
    }

    private static void atLeast(List<String> p, String key, int value, int min) {
        if (value < min) {
            p.add(key + " must be at least " + min + " (was " + value + ")");
        }
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase().replace('_', '-');
    }
}
