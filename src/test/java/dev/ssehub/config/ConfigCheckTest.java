package dev.ssehub.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The rules of every sse.* key, without booting Quarkus: what passes, what is refused, and the message. */
class ConfigCheckTest {

    /** The other keys at their defaults, for the rules that depend on them. */
    static final Map<String, String> DEFAULTS = Map.of("sse.max-event-bytes", "65536", "sse.queue-bytes", "16M",
            "sse.replay.size", "10000", "sse.max-batch-bytes", "16M");

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
            "sse.heartbeat.interval | 15s", "sse.heartbeat.interval | 1s", "sse.heartbeat.interval | PT15S",
            "sse.heartbeat.interval | 1500ms", "sse.heartbeat.interval | 2m", "sse.heartbeat.interval | 15",
            "sse.heartbeat.mode | event", "sse.heartbeat.mode | comment", "sse.heartbeat.mode | COMMENT",
            "sse.retry | 3s", "sse.retry | 1ms", "sse.client-timeout | 120s", "sse.replay.max-age | 5m",
            "sse.shutdown.drain | 0s", "sse.shutdown.drain | 5s",
            "sse.max-clients | 1", "sse.max-clients | 2147483647", "sse.max-clients | ' 20000 '",
            "sse.max-connections-per-user | 5", "sse.queue-size | 1", "sse.max-event-bytes | 16",
            "sse.replay.size | 0",
            "sse.queue-bytes | 1M", "sse.queue-bytes | 66560", "sse.queue-total-bytes | 16M",
            "sse.queue-total-bytes | 1G", "sse.max-batch-bytes | 16M", "sse.replay.max-bytes | 64M",
            "sse.slow-consumer | disconnect", "sse.slow-consumer | drop-oldest", "sse.slow-consumer | DROP_OLDEST",
            "sse.dev-endpoints | true", "sse.dev-endpoints | FALSE", "sse.auth.enabled | false",
            "sse.auth.cookie | sse_token", "sse.auth.cookie | __Host-token", "sse.auth.max-stream-lifetime | 1h",
            "sse.publish.rate | 1000", "sse.publish.rate | 0", "sse.publish.rate | 0.5", "sse.publish.burst | 1",
            "sse.connect.rate | 100", "sse.connect.rate | 0",
            "sse.backplane | memory", "sse.redis.prefix | sse", "sse.redis.prefix | app:1",
            "sse.redis.block | 2s", "sse.redis.block | 100ms",
            "sse.cors.origins | anything, really", "sse.unknown-key | 0",
    })
    void allowed(String key, String value) {
        assertEquals(Optional.empty(), ConfigCheck.problem(key, value, DEFAULTS::get));
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
            "sse.heartbeat.interval | 999ms | a duration of at least 1s",
            "sse.heartbeat.interval | 0s | a duration of at least 1s",
            "sse.heartbeat.interval | banana | a duration of at least 1s",
            "sse.heartbeat.interval | '' | a duration of at least 1s",
            "sse.heartbeat.mode | loud | event, comment",
            "sse.retry | 0s | a duration above 0",
            "sse.client-timeout | -1s | a duration above 0",
            "sse.replay.max-age | 0 | a duration above 0",
            "sse.shutdown.drain | -1ms | a duration of 0s or more",
            "sse.max-clients | 0 | a whole number from 1 to 2147483647",
            "sse.max-clients | lots | a whole number from 1 to 2147483647",
            "sse.max-clients | 2147483648 | a whole number from 1 to 2147483647",
            "sse.max-clients | 1.5 | a whole number from 1 to 2147483647",
            "sse.max-connections-per-user | 0 | a whole number from 1",
            "sse.queue-size | -1 | a whole number from 1",
            "sse.max-event-bytes | 15 | a whole number from 16",
            "sse.replay.size | -1 | a whole number from 0",
            "sse.queue-bytes | 64K | a size of at least 66560 bytes (sse.max-event-bytes + 1K)",
            "sse.queue-bytes | lots | a size of at least 66560 bytes (sse.max-event-bytes + 1K)",
            "sse.queue-total-bytes | 15M | a size of at least 16777216 bytes (sse.queue-bytes)",
            "sse.max-batch-bytes | 65536 | a size from 66560 bytes (sse.max-event-bytes + 1K) to 67108864 bytes",
            "sse.max-batch-bytes | 65M | a size from 66560 bytes (sse.max-event-bytes + 1K) to 67108864 bytes",
            "sse.http.body-total-bytes | 16M | a size of at least 33554432 bytes (2 x sse.max-batch-bytes)",
            "sse.http.header-timeout | 0s | a duration above 0",
            "sse.http.max-pending-per-address | 0 | a whole number from 1 to 2147483647",
            "sse.replay.max-bytes | 0 | a size of at least 66560 bytes (sse.max-event-bytes + 1K)",
            "sse.slow-consumer | sometimes | disconnect, drop-oldest",
            "sse.dev-endpoints | maybe | true or false",
            "sse.auth.enabled | maybe | true or false",
            "sse.auth.cookie | a;b | a cookie name: 1 to 64 letters, digits or !#$%&",
            "sse.auth.cookie | '' | a cookie name",
            "sse.auth.max-stream-lifetime | 0s | a duration above 0",
            "sse.publish.rate | -1 | a number of 0 or more (0: no limit)",
            "sse.publish.rate | fast | a number of 0 or more (0: no limit)",
            "sse.publish.rate | Infinity | a number of 0 or more (0: no limit)",
            "sse.publish.rate | NaN | a number of 0 or more (0: no limit)",
            "sse.publish.burst | 0 | a whole number from 1",
            "sse.connect.rate | -0.5 | a number of 0 or more (0: no limit)",
            "sse.backplane | redis | memory, or redis once quarkus.redis.hosts (QUARKUS_REDIS_HOSTS) says where",
            "sse.backplane | kafka | memory, or redis once quarkus.redis.hosts (QUARKUS_REDIS_HOSTS) says where",
            "sse.redis.prefix | a b | 1 to 64 letters, digits or _.:-",
            "sse.redis.prefix | '' | 1 to 64 letters, digits or _.:-",
            "sse.redis.block | 50ms | a duration of at least 100ms and below quarkus.redis.timeout (PT10S)",
            "sse.redis.block | 10s | a duration of at least 100ms and below quarkus.redis.timeout (PT10S)",
    })
    void refusedWithKeyValueAndRange(String key, String value, String allowed) {
        String problem = ConfigCheck.problem(key, value, DEFAULTS::get).orElseThrow();
        assertTrue(problem.startsWith("Invalid value for " + key + " (" + ConfigCheck.envName(key) + "): \""
                + value + "\"; allowed: " + allowed), problem);
        assertTrue(problem.lines().count() == 1, problem);
    }

    @Test
    void byteBudgetsFollowTheKeysTheyDependOn() {
        Map<String, String> small = Map.of("sse.max-event-bytes", "16384", "sse.queue-bytes", "20K",
                "sse.replay.size", "0");
        assertEquals(Optional.empty(), ConfigCheck.problem("sse.queue-bytes", "20K", small::get));
        assertEquals(Optional.empty(), ConfigCheck.problem("sse.queue-total-bytes", "20K", small::get));
        assertEquals(Optional.empty(), ConfigCheck.problem("sse.replay.max-bytes", "0", small::get),
                "an empty replay log needs no room");
        assertTrue(ConfigCheck.problem("sse.queue-total-bytes", "19K", small::get).isPresent());
    }

    @Test
    void redisSettingsFollowTheRedisClient() {
        Map<String, String> redis = Map.of("quarkus.redis.hosts", "redis://127.0.0.1:6379", "quarkus.redis.timeout", "3s");
        assertEquals(Optional.empty(), ConfigCheck.problem("sse.backplane", "redis", redis::get));
        assertEquals(Optional.empty(), ConfigCheck.problem("sse.redis.block", "2s", redis::get));
        assertTrue(ConfigCheck.problem("sse.redis.block", "3s", redis::get).orElseThrow()
                .endsWith("allowed: a duration of at least 100ms and below quarkus.redis.timeout (PT3S)"));
    }

    @Test
    void theHttpIdleTimeoutIsOffOrLongerThanTheHeartbeat() {
        assertEquals(Optional.empty(), ConfigCheck.problem("sse.heartbeat.interval", "15s",
                Map.of("quarkus.http.idle-timeout", "75s")::get));
        assertEquals(Optional.empty(), ConfigCheck.problem("sse.heartbeat.interval", "15s",
                Map.of("quarkus.http.idle-timeout", "0")::get));
        assertEquals("Invalid value for quarkus.http.idle-timeout (QUARKUS_HTTP_IDLE_TIMEOUT): \"15s\"; allowed: a "
                + "duration of 0 (off) or longer than sse.heartbeat.interval (15s), else HTTP/2 streams are cut between "
                + "heartbeats", ConfigCheck.problem("sse.heartbeat.interval", "15s",
                        Map.of("quarkus.http.idle-timeout", "15s")::get).orElseThrow());
    }

    /** Authentication needs the key that verifies tokens, wherever smallrye-jwt would find it. */
    @ParameterizedTest
    @CsvSource({ "mp.jwt.verify.publickey.location", "mp.jwt.verify.publickey", "smallrye.jwt.verify.key.location" })
    void authenticationNeedsAVerificationKey(String keyProperty) {
        String problem = ConfigCheck.problem("sse.auth.enabled", "true", DEFAULTS::get).orElseThrow();
        assertTrue(problem.startsWith("sse.auth.enabled=true needs the key that verifies tokens: set "
                + "mp.jwt.verify.publickey.location (MP_JWT_VERIFY_PUBLICKEY_LOCATION"), problem);
        assertTrue(problem.lines().count() == 1, problem);
        assertTrue(ConfigCheck.problem("sse.auth.enabled", "true", Map.of(keyProperty, " ")::get).isPresent(),
                "a blank value is no key");
        assertEquals(Optional.empty(), ConfigCheck.problem("sse.auth.enabled", "true", Map.of(keyProperty, "/keys/k.pem")::get));
        assertEquals(Optional.empty(), ConfigCheck.problem("sse.auth.enabled", "false", DEFAULTS::get));
    }

    @Test
    void environmentVariableNames() {
        assertEquals("SSE_MAX_CLIENTS", ConfigCheck.envName("sse.max-clients"));
        assertEquals("SSE_HEARTBEAT_INTERVAL", ConfigCheck.envName("sse.heartbeat.interval"));
    }
}
