package dev.ssehub.config;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.Startup;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.config.spi.Converter;
import org.jboss.logging.Logger;

import dev.ssehub.hub.HubSettings.HeartbeatMode;
import dev.ssehub.hub.HubSettings.SlowConsumerPolicy;
import io.quarkus.runtime.configuration.DurationConverter;
import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.runtime.configuration.MemorySizeConverter;
import io.smallrye.config.Converters;

/**
 * What each {@code sse.*} key allows. {@link ConfigCheckInterceptor} applies these rules to every value as
 * it is read, so an invalid value (one that does not parse, or parses but cannot work) stops start-up with
 * one line naming the key, the value and what is allowed, before anything else starts. The values are
 * parsed by the same converters the configuration mapping uses, so a value accepted here converts there.
 * Once the application is up, the effective configuration is logged in one line.
 */
@Singleton
public class ConfigCheck {

    private static final Logger LOG = Logger.getLogger(ConfigCheck.class);
    /** The build-time quarkus.rest.input-buffer-size: larger bodies would be read by a worker thread. */
    static final long MAX_BATCH_BYTES = 64L * 1024 * 1024;
    private static final String IDLE_TIMEOUT = "quarkus.http.idle-timeout";

    private static final Converter<Integer> INTEGER = Converters.getImplicitConverter(Integer.class);
    private static final Converter<Double> NUMBER = Converters.getImplicitConverter(Double.class);
    private static final Converter<Duration> DURATION = new DurationConverter();
    private static final Converter<MemorySize> SIZE = new MemorySizeConverter();
    /** Room for an event's id and type lines beside its data, in the byte budgets below. */
    private static final long FRAME_OVERHEAD = 1024;
    /** The hash tag of the service's Redis keys ({@code {sse}:events}). */
    private static final Pattern REDIS_PREFIX = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");
    /** Quarkus's default Redis command timeout. */
    private static final Duration REDIS_TIMEOUT = Duration.ofSeconds(10);
    /** Where smallrye-jwt finds the key that verifies tokens: a PEM file or a JWKS (file or URL), or the key inline. */
    static final List<String> KEY_PROPERTIES = List.of("mp.jwt.verify.publickey.location", "mp.jwt.verify.publickey",
            "smallrye.jwt.verify.key.location");
    /** Cookie names are RFC 6265 tokens. */
    private static final Pattern COOKIE_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}");

    /**
     * The rule of each key. Most stand alone; some depend on other keys ({@code other} looks a key up, null
     * when absent): a byte budget must hold one largest event, and the Redis settings must suit the Redis
     * client's ({@code quarkus.redis.*}).
     */
    private static final Map<String, Function<UnaryOperator<String>, Rule>> RULES = Map.ofEntries(
            // Quarkus's scheduler runs every() jobs at a one-second resolution at best.
            fixed("sse.heartbeat.interval",
                    duration("of at least 1s, e.g. 15s", d -> d.compareTo(Duration.ofSeconds(1)) >= 0)),
            fixed("sse.heartbeat.mode", oneOf(HeartbeatMode.class, null)),
            fixed("sse.retry", duration("above 0, e.g. 3s", ConfigCheck::positive)),
            fixed("sse.client-timeout", duration("above 0, e.g. 120s", ConfigCheck::positive)),
            fixed("sse.max-clients", atLeast(1)),
            fixed("sse.max-connections-per-user", atLeast(1)),
            fixed("sse.queue-size", atLeast(1)),
            Map.entry("sse.queue-bytes", other -> size(oneEvent(other), "sse.max-event-bytes + 1K")),
            Map.entry("sse.queue-total-bytes", other -> size(sizeOf(other, "sse.queue-bytes"), "sse.queue-bytes")),
            // Up to the build-time quarkus.rest.input-buffer-size: a larger body would be read on a worker thread.
            Map.entry("sse.max-batch-bytes", other -> size(oneEvent(other), "sse.max-event-bytes + 1K", MAX_BATCH_BYTES)),
            fixed("sse.slow-consumer", oneOf(SlowConsumerPolicy.class, null)),
            fixed("sse.max-event-bytes", atLeast(16)),
            fixed("sse.replay.size", atLeast(0)),
            // An empty log (sse.replay.size=0) needs no room.
            Map.entry("sse.replay.max-bytes", other -> test(INTEGER, other.apply("sse.replay.size"), n -> n == 0)
                    ? size(0, null)
                    : size(oneEvent(other), "sse.max-event-bytes + 1K")),
            fixed("sse.replay.max-age", duration("above 0, e.g. 5m", ConfigCheck::positive)),
            fixed("sse.shutdown.drain", duration("of 0s or more, e.g. 5s", d -> !d.isNegative())),
            fixed("sse.dev-endpoints", bool("true or false", true, false)),
            fixed("sse.auth.enabled", bool("true or false", true, false)),
            fixed("sse.auth.cookie", pattern(COOKIE_NAME, "a cookie name: 1 to 64 letters, digits or !#$%&'*+.^_`|~-")),
            fixed("sse.auth.max-stream-lifetime", duration("above 0, e.g. 1h", ConfigCheck::positive)),
            fixed("sse.publish.rate", rate()),
            fixed("sse.publish.burst", atLeast(1)),
            fixed("sse.connect.rate", rate()),
            Map.entry("sse.backplane", ConfigCheck::backplane),
            fixed("sse.redis.prefix", pattern(REDIS_PREFIX, "1 to 64 letters, digits or _.:-")),
            fixed("sse.http.header-timeout", duration("above 0, e.g. 10s", ConfigCheck::positive)),
            fixed("sse.http.body-timeout", duration("above 0, e.g. 10s", ConfigCheck::positive)),
            fixed("sse.http.body-min-rate", atLeast(1)),
            fixed("sse.http.max-pending", atLeast(1)),
            fixed("sse.http.max-pending-per-address", atLeast(1)),
            // Room for one body of the largest size, and as much again kept for bodies of one event.
            Map.entry("sse.http.body-total-bytes", other -> {
                long batch = sizeOf(other, "sse.max-batch-bytes");
                return size(2 * (batch <= MAX_BATCH_BYTES ? batch : 1), "2 x sse.max-batch-bytes");
            }),
            // One blocking read must end before the Redis client gives up on the command.
            Map.entry("sse.redis.block", other -> {
                Duration timeout = parse(DURATION, other.apply("quarkus.redis.timeout"), REDIS_TIMEOUT);
                return duration("of at least 100ms and below quarkus.redis.timeout (" + timeout + ")",
                        d -> d.toMillis() >= 100 && d.compareTo(timeout) < 0);
            }));

    /**
     * Values a key's rule accepts that also need another key: given the value and {@code other}, the message
     * when that key is missing.
     */
    private static final Map<String, BiFunction<String, UnaryOperator<String>, Optional<String>>> NEEDS = Map.of(
            // HTTP/2 streams keep their connection active with their heartbeats only, so the HTTP idle timeout
            // must be off or longer than the heartbeat interval. Checked here because the service always reads
            // the interval, while Quarkus reads quarkus.http.idle-timeout outside this check's reach.
            "sse.heartbeat.interval", (value, other) -> {
                String idle = other.apply(IDLE_TIMEOUT);
                Duration beat = parse(DURATION, value, Duration.ofSeconds(15));
                Rule rule = duration("of 0 (off) or longer than sse.heartbeat.interval (" + value.trim()
                        + "), else HTTP/2 streams are cut between heartbeats", d -> d.isZero() || d.compareTo(beat) > 0);
                return idle == null || rule.accepts().test(idle) ? Optional.empty()
                        : Optional.of("Invalid value for " + IDLE_TIMEOUT + " (" + envName(IDLE_TIMEOUT) + "): \"" + idle
                                + "\"; allowed: " + rule.allowed());
            },
            "sse.auth.enabled", (value, other) -> Boolean.parseBoolean(value.trim())
                    && KEY_PROPERTIES.stream().map(other).noneMatch(v -> v != null && !v.isBlank())
                            ? Optional.of("sse.auth.enabled=true needs the key that verifies tokens: set "
                                    + "mp.jwt.verify.publickey.location (MP_JWT_VERIFY_PUBLICKEY_LOCATION: a PEM file or "
                                    + "a JWKS file or URL; see docs/security.md), or turn authentication off with "
                                    + "sse.auth.enabled=false (SSE_AUTH_ENABLED=false) on a trusted network only")
                            : Optional.empty());

    void onStart(@Observes Startup event, SseConfig config) {
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
        Config mp = ConfigProvider.getConfig();
        Duration idleTimeout = mp.getOptionalValue("quarkus.http.idle-timeout", Duration.class)
                .orElse(Duration.ofMinutes(30));
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
     * Why {@code value} is not allowed for {@code key}, as one line naming the key (and its environment
     * variable), the value and what is allowed; empty when it is allowed or the key has no rule.
     * {@code other} gives the value of another key (null when it has none), for rules that depend on it.
     */
    public static Optional<String> problem(String key, String value, UnaryOperator<String> other) {
        Function<UnaryOperator<String>, Rule> rules = RULES.get(key);
        if (rules == null) {
            return Optional.empty();
        }
        Rule rule = rules.apply(other);
        if (rule.accepts().test(value)) {
            BiFunction<String, UnaryOperator<String>, Optional<String>> needs = NEEDS.get(key);
            return needs == null ? Optional.empty() : needs.apply(value, other);
        }
        return Optional.of("Invalid value for " + key + " (" + envName(key) + "): \"" + value + "\"; allowed: "
                + rule.allowed());
    }

    /** The environment variable that sets a key: {@code sse.max-clients} → {@code SSE_MAX_CLIENTS}. */
    static String envName(String key) {
        return key.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    private record Rule(String allowed, Predicate<String> accepts) {
    }

    private static Map.Entry<String, Function<UnaryOperator<String>, Rule>> fixed(String key, Rule rule) {
        return Map.entry(key, other -> rule);
    }

    private static Rule atLeast(int min) {
        return new Rule("a whole number from " + min + " to " + Integer.MAX_VALUE,
                v -> test(INTEGER, v, i -> i >= min));
    }

    /** A rate per second: 0 or more, 0 for no limit. */
    private static Rule rate() {
        return new Rule("a number of 0 or more (0: no limit), e.g. 1000",
                v -> test(NUMBER, v, d -> d >= 0 && !d.isInfinite()));
    }

    /** A memory size of at least {@code min} bytes ({@code why} names where the minimum comes from). */
    private static Rule size(long min, String why) {
        String from = why == null ? "" : " (" + why + ")";
        return new Rule("a size of at least " + min + " bytes" + from + ", in bytes or with K, M or G, e.g. 64M",
                v -> test(SIZE, v, s -> s.asLongValue() >= min));
    }

    /** A memory size from {@code min} to {@code max} bytes. */
    private static Rule size(long min, String why, long max) {
        String from = why == null ? "" : " (" + why + ")";
        return new Rule("a size from " + min + " bytes" + from + " to " + max + " bytes, in bytes or with K, M or G",
                v -> test(SIZE, v, s -> s.asLongValue() >= min && s.asLongValue() <= max));
    }

    /** The bytes of one largest event, from sse.max-event-bytes; 1 while that key is invalid (it says so itself). */
    private static long oneEvent(UnaryOperator<String> other) {
        String v = other.apply("sse.max-event-bytes");
        return test(INTEGER, v, i -> i >= 16) ? INTEGER.convert(v) + FRAME_OVERHEAD : 1;
    }

    /** The bytes another size key holds; 1 while it is invalid (it says so itself). */
    private static long sizeOf(UnaryOperator<String> other, String key) {
        String v = other.apply(key);
        return test(SIZE, v, s -> s.asLongValue() > 0) ? SIZE.convert(v).asLongValue() : 1;
    }

    /** {@code memory}, or {@code redis} once the Redis client knows where Redis is. */
    private static Rule backplane(UnaryOperator<String> other) {
        String hosts = other.apply("quarkus.redis.hosts");
        if (hosts != null && !hosts.isBlank()) {
            return oneOf(SseConfig.BackplaneKind.class, null);
        }
        return oneOf(SseConfig.BackplaneKind.class, "memory, or redis once quarkus.redis.hosts (QUARKUS_REDIS_HOSTS) "
                + "says where Redis is, e.g. redis://redis:6379", SseConfig.BackplaneKind.MEMORY);
    }

    private static Rule pattern(Pattern p, String description) {
        return new Rule(description, v -> p.matcher(v).matches());
    }

    /** {@code value} converted, or {@code fallback} when it is absent or does not convert. */
    private static <T> T parse(Converter<T> converter, String value, T fallback) {
        return test(converter, value, x -> true) ? converter.convert(value) : fallback;
    }

    private static Rule duration(String range, Predicate<Duration> inRange) {
        return new Rule("a duration " + range, v -> test(DURATION, v, inRange));
    }

    private static boolean positive(Duration d) {
        return !d.isNegative() && !d.isZero();
    }

    /** An enum key; {@code allowed} limits it to some constants (with {@code description} saying why). */
    @SafeVarargs
    private static <E extends Enum<E>> Rule oneOf(Class<E> type, String description, E... allowed) {
        E[] values = allowed.length > 0 ? allowed : type.getEnumConstants();
        Converter<E> converter = Converters.getImplicitConverter(type);
        String names = Arrays.stream(values).map(ConfigCheck::lower).collect(Collectors.joining(", "));
        return new Rule(description != null ? description : names,
                v -> test(converter, v, e -> Arrays.asList(values).contains(e)));
    }

    /** A boolean key; stricter than SmallRye Config, which reads any word it does not know as false. */
    private static Rule bool(String description, Boolean... allowed) {
        return new Rule(description, v -> {
            String s = v.trim().toLowerCase(Locale.ROOT);
            Boolean b = s.equals("true") ? Boolean.TRUE : s.equals("false") ? Boolean.FALSE : null;
            return b != null && Arrays.asList(allowed).contains(b);
        });
    }

    /** Whether {@code value} converts and the result is in range; false for null, unparseable or empty. */
    private static <T> boolean test(Converter<T> converter, String value, Predicate<T> inRange) {
        if (value == null) {
            return false;
        }
        T converted;
        try {
            converted = converter.convert(value);
        } catch (RuntimeException e) {
            return false;
        }
        return converted != null && inRange.test(converted);
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
