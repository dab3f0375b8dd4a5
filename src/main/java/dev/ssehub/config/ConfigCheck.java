package dev.ssehub.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;

import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.Startup;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

/**
 * Fails start-up when an {@code sse.*} value parses but cannot work, with a message that names every
 * offending key. (Unparseable values, e.g. {@code sse.max-clients=lots}, already fail in SmallRye Config
 * with the key named.)
 */
@Singleton
public class ConfigCheck {

    private static final Logger LOG = Logger.getLogger(ConfigCheck.class);
    /** Where smallrye-jwt finds the key that verifies tokens: a PEM file or a JWKS (file or URL), or the key inline. */
    static final List<String> KEY_PROPERTIES = List.of("mp.jwt.verify.publickey.location", "mp.jwt.verify.publickey",
            "smallrye.jwt.verify.key.location");
    /** Cookie names are RFC 6265 tokens. */
    private static final Pattern COOKIE_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}");

    void onStart(@Observes Startup event, SseConfig config) {
        Config mp = ConfigProvider.getConfig();
        List<String> problems = problems(config, key -> mp.getOptionalValue(key, String.class).filter(v -> !v.isBlank()).isPresent());
        Duration idleTimeout = mp.getOptionalValue("quarkus.http.idle-timeout", Duration.class)
                .orElse(Duration.ofMinutes(30));
        problems.addAll(httpProblems(config, idleTimeout));
        if (!problems.isEmpty()) {
            throw new IllegalStateException("Invalid SSE Hub configuration: " + String.join("; ", problems));
        }
        LOG.infof("SSE Hub configuration: heartbeat %s (%s), retry %s, client-timeout %s, max-clients %d, "
                + "max-connections-per-user %d, queue %d frames / %d bytes (all streams %d), slow-consumer %s, "
                + "max-event-bytes %d, max-batch-bytes %d, replay %d events / %d bytes / %s, shutdown drain %s, "
                + "dev-endpoints %s, auth %s, publish rate %s/s (burst %d), connect rate %s/s per address, backplane %s",
                config.heartbeat().interval(), lower(config.heartbeat().mode()), config.retry(), config.clientTimeout(),
                config.maxClients(), config.maxConnectionsPerUser(), config.queueSize(),
                config.queueBytes().asLongValue(), config.queueTotalBytes().asLongValue(), lower(config.slowConsumer()),
                config.maxEventBytes(), config.maxBatchBytes().asLongValue(), config.replay().size(),
                config.replay().maxBytes().asLongValue(), config.replay().maxAge(), config.shutdown().drain(),
                config.devEndpoints(), config.auth().enabled() ? "on" : "off", rate(config.publish().rate()),
                config.publish().burst(), rate(config.connect().rate()), lower(config.backplane()));
        LOG.infof("SSE Hub HTTP limits: header-timeout %s, body-timeout %s, body-min-rate %d, body-total-bytes %d, "
                + "max-pending %d (%d per address), idle-timeout %s", config.http().headerTimeout(),
                config.http().bodyTimeout(), config.http().bodyMinRate(), config.http().bodyTotalBytes().asLongValue(),
                config.http().maxPending(config.maxClients()), config.http().maxPendingPerAddress(), idleTimeout);
        if (config.auth().enabled() && mp.getOptionalValue("mp.jwt.verify.issuer", String.class).isEmpty()) {
            LOG.warn("sse.auth.enabled=true without mp.jwt.verify.issuer: tokens from any issuer that the key "
                    + "verifies are accepted; set mp.jwt.verify.issuer (MP_JWT_VERIFY_ISSUER)");
        }
    }

    private static String rate(double perSecond) {
        return perSecond == 0 ? "unlimited " : Double.toString(perSecond);
    }

    /**
     * What is wrong with this configuration; {@code isSet} tells whether a property outside {@code sse.*} (the
     * verification key's) has a value.
     */
    static List<String> problems(SseConfig c, Predicate<String> isSet) {
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
        // One largest event (its data plus the id and type lines) must fit in a stream's outbox and the log.
        long oneEvent = c.maxEventBytes() + 1024L;
        atLeast(p, "sse.queue-bytes", c.queueBytes().asLongValue(), oneEvent);
        atLeast(p, "sse.queue-total-bytes", c.queueTotalBytes().asLongValue(), c.queueBytes().asLongValue());
        atLeast(p, "sse.max-batch-bytes", c.maxBatchBytes().asLongValue(), oneEvent);
        if (c.replay().size() > 0) {
            atLeast(p, "sse.replay.max-bytes", c.replay().maxBytes().asLongValue(), oneEvent);
        }
        if (c.backplane() == SseConfig.BackplaneKind.REDIS) {
            if (ConfigProvider.getConfig().getOptionalValue("quarkus.redis.hosts", String.class).isEmpty()) {
                p.add("sse.backplane=redis needs quarkus.redis.hosts (QUARKUS_REDIS_HOSTS), e.g. redis://redis:6379");
            }
            if (!c.redis().prefix().matches("[A-Za-z0-9_.:-]{1,64}")) {
                p.add("sse.redis.prefix must be 1 to 64 letters, digits or _.:- (was " + c.redis().prefix() + ")");
            }
            Duration timeout = ConfigProvider.getConfig().getOptionalValue("quarkus.redis.timeout", Duration.class)
                    .orElse(Duration.ofSeconds(10));
            if (c.redis().block().toMillis() < 100 || c.redis().block().compareTo(timeout) >= 0) {
                p.add("sse.redis.block must be at least 100ms and shorter than quarkus.redis.timeout (" + timeout
                        + "; was " + c.redis().block() + ")");
            }
        }
        if (c.auth().enabled() && KEY_PROPERTIES.stream().noneMatch(isSet)) {
            p.add("sse.auth.enabled=true needs the key that verifies tokens: set mp.jwt.verify.publickey.location "
                    + "(MP_JWT_VERIFY_PUBLICKEY_LOCATION: a PEM file or a JWKS file or URL; see docs/security.md), "
                    + "or turn authentication off with sse.auth.enabled=false (SSE_AUTH_ENABLED=false) on a trusted network only");
        }
        if (!COOKIE_NAME.matcher(c.auth().cookie()).matches()) {
            p.add("sse.auth.cookie must be a cookie name (letters, digits and !#$%&'*+.^_`|~-, at most 64; was "
                    + c.auth().cookie() + ")");
        }
        c.auth().maxStreamLifetime().ifPresent(d -> positive(p, "sse.auth.max-stream-lifetime", d));
        notNegative(p, "sse.publish.rate", c.publish().rate());
        atLeast(p, "sse.publish.burst", c.publish().burst(), 1);
        notNegative(p, "sse.connect.rate", c.connect().rate());
        return p;
    }

    /** The build-time quarkus.rest.input-buffer-size: larger bodies would be read by a worker thread. */
    static final long MAX_BATCH_BYTES = 64L * 1024 * 1024;

    /**
     * What is wrong with the HTTP layer's limits (issue 15: {@code sse.http.*}, the ceiling of
     * {@code sse.max-batch-bytes}, {@code quarkus.http.idle-timeout}).
     */
    static List<String> httpProblems(SseConfig c, Duration idleTimeout) {
        List<String> p = new ArrayList<>();
        if (c.maxBatchBytes().asLongValue() > MAX_BATCH_BYTES) {
            p.add("sse.max-batch-bytes must be at most " + MAX_BATCH_BYTES + " (quarkus.rest.input-buffer-size, "
                    + "fixed at build time) (was " + c.maxBatchBytes().asLongValue() + ")");
        }
        positive(p, "sse.http.header-timeout", c.http().headerTimeout());
        positive(p, "sse.http.body-timeout", c.http().bodyTimeout());
        atLeast(p, "sse.http.body-min-rate", c.http().bodyMinRate(), 1);
        if (c.http().maxPending().isPresent()) {
            atLeast(p, "sse.http.max-pending", c.http().maxPending().getAsInt(), 1);
        }
        atLeast(p, "sse.http.max-pending-per-address", c.http().maxPendingPerAddress(), 1);
        // Room for one body of the largest size, and as much again kept for bodies of one event.
        atLeast(p, "sse.http.body-total-bytes", c.http().bodyTotalBytes().asLongValue(), 2 * c.maxBatchBytes().asLongValue());
        if (!idleTimeout.isZero() && idleTimeout.compareTo(c.heartbeat().interval()) <= 0) {
            // HTTP/2 streams keep their connection active with their heartbeats only.
            p.add("quarkus.http.idle-timeout must be 0 (off) or longer than sse.heartbeat.interval ("
                    + c.heartbeat().interval() + "), else HTTP/2 streams are cut between heartbeats (was " + idleTimeout
                    + ")");
        }
        return p;
    }

    private static void positive(List<String> p, String key, Duration d) {
        if (d.isNegative() || d.isZero()) {
            p.add(key + " must be positive (was " + d + ")");
        }
    }

    private static void notNegative(List<String> p, String key, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            p.add(key + " must be a number of at least 0 (0: no limit; was " + value + ")");
        }
    }

    private static void atLeast(List<String> p, String key, long value, long min) {
        if (value < min) {
            p.add(key + " must be at least " + min + " (was " + value + ")");
        }
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase().replace('_', '-');
    }
}
