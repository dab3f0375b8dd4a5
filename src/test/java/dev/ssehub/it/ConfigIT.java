package dev.ssehub.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What a newcomer sees at start-up of the packaged service: an invalid sse.* value stops it with a short
 * message naming the key, the value and what is allowed (no stack trace, no other warning first), and a
 * clean start logs no warning at all, serves the demo page at "/" and answers an unknown path with
 * directions to the API.
 */
class ConfigIT {

    /** A log line at WARN or ERROR (Quarkus's format), or a warning from the JVM itself. */
    static final Pattern WARNING = Pattern.compile("^(\\S+ \\S+ +(WARN|ERROR) .*|WARNING: .*)$");

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
            "SSE_QUEUE_SIZE         | 0         | sse.queue-size         | a whole number from 1 to 2147483647",
            "SSE_MAX_CLIENTS        | lots      | sse.max-clients        | a whole number from 1 to 2147483647",
            "SSE_HEARTBEAT_INTERVAL | 500ms     | sse.heartbeat.interval | a duration of at least 1s",
            "SSE_HEARTBEAT_INTERVAL | banana    | sse.heartbeat.interval | a duration of at least 1s",
            "SSE_SLOW_CONSUMER      | sometimes | sse.slow-consumer      | disconnect, drop-oldest",
            "SSE_BACKPLANE          | redis     | sse.backplane          | memory",
            "SSE_QUEUE_BYTES        | 64K       | sse.queue-bytes        | a size of at least 66560 bytes (sse.max-event-bytes + 1K)",
            "SSE_AUTH_ENABLED       | maybe     | sse.auth.enabled       | true or false",
            "SSE_AUTH_COOKIE        | a;b       | sse.auth.cookie        | a cookie name",
            "SSE_AUTH_MAX_STREAM_LIFETIME | 0s  | sse.auth.max-stream-lifetime | a duration above 0",
            "SSE_PUBLISH_RATE       | fast      | sse.publish.rate       | a number of 0 or more (0: no limit)",
            "SSE_PUBLISH_BURST      | 0         | sse.publish.burst      | a whole number from 1 to 2147483647",
            "SSE_CONNECT_RATE       | -1        | sse.connect.rate       | a number of 0 or more (0: no limit)",
            "SSE_MAX_BATCH_BYTES    | 1000      | sse.max-batch-bytes    | a size from 66560 bytes (sse.max-event-bytes + 1K) to 67108864 bytes",
            "SSE_MAX_BATCH_BYTES    | 65M       | sse.max-batch-bytes    | a size from 66560 bytes (sse.max-event-bytes + 1K) to 67108864 bytes",
            "SSE_HTTP_HEADER_TIMEOUT | 0s       | sse.http.header-timeout | a duration above 0",
            "SSE_HTTP_BODY_TOTAL_BYTES | 16M    | sse.http.body-total-bytes | a size of at least 33554432 bytes (2 x sse.max-batch-bytes)",
            "QUARKUS_HTTP_IDLE_TIMEOUT | 5s     | quarkus.http.idle-timeout | a duration of 0 (off) or longer than sse.heartbeat.interval (15s)",
            // quarkus.shutdown.delay forwards this key: still one line, about the key the user set.
            "SSE_SHUTDOWN_DRAIN     | soon      | sse.shutdown.drain     | a duration of 0s or more",
    })
    void invalidValueStopsStartupWithOneLineNamingKeyValueAndRange(String env, String value, String key,
            String allowed) throws Exception {
        String out = failedStart(Map.of(env, value));
        List<String> lines = out.lines().filter(l -> !l.isBlank()).toList();
        assertTrue(lines.size() <= 2, "a header and one line, no stack trace:\n" + out);
        assertEquals(1, lines.stream().filter(l -> l.contains(key)).count(), "one line names " + key + ":\n" + out);
        String line = lines.stream().filter(l -> l.contains(key)).findFirst().orElseThrow();
        assertTrue(line.contains("(" + env + ")"), "names the environment variable: " + line);
        assertTrue(line.contains("\"" + value + "\""), "names the value: " + line);
        assertTrue(line.contains("allowed: " + allowed), "names what is allowed (" + allowed + "): " + line);
    }

    @Test
    void everyInvalidValueGetsItsOwnLine() throws Exception {
        String out = failedStart(Map.of("SSE_MAX_CLIENTS", "0", "SSE_HEARTBEAT_MODE", "loud",
                "SSE_REPLAY_MAX_AGE", "0s"));
        List<String> lines = out.lines().filter(l -> !l.isBlank()).toList();
        assertEquals(4, lines.size(), "a header and one line per invalid value:\n" + out);
        for (String expected : List.of("sse.max-clients (SSE_MAX_CLIENTS): \"0\"",
                "sse.heartbeat.mode (SSE_HEARTBEAT_MODE): \"loud\"; allowed: event, comment",
                "sse.replay.max-age (SSE_REPLAY_MAX_AGE): \"0s\"; allowed: a duration above 0")) {
            assertTrue(out.contains(expected), expected + " in:\n" + out);
        }
    }

    @Test
    void aByteBudgetFollowsTheLargestEvent() throws Exception {
        // sse.max-event-bytes grows (and the batch budget with it): the default outbox budget (16M) can no
        // longer hold one event.
        String out = failedStart(Map.of("SSE_MAX_EVENT_BYTES", "17000000", "SSE_MAX_BATCH_BYTES", "32M"));
        assertTrue(out.contains("Invalid value for sse.queue-bytes (SSE_QUEUE_BYTES): \"16M\"; allowed: a size of at "
                + "least 17001024 bytes (sse.max-event-bytes + 1K)"), out);
        assertEquals(2, out.lines().filter(l -> !l.isBlank()).count(), out);
    }

    @Test
    void cleanStartLogsNoWarning() throws Exception {
        // The prod profile with what it needs: the key that verifies tokens (authentication is on) and the
        // issuer (without it the service warns that any issuer is accepted).
        try (ServiceProcess svc = ServiceProcess.start(ServiceProcess.AUTH_ON)) {
            svc.awaitReady(Duration.ofSeconds(30));
            assertEquals(200, svc.status("/q/metrics"));
            HttpResponse<String> page = svc.get("/");
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("sse-hub.js"), page.body());
            HttpResponse<String> root = svc.get("/nope");
            assertEquals(404, root.statusCode());
            assertEquals("application/problem+json", root.headers().firstValue("Content-Type").orElse(""));
            assertTrue(root.body().contains("GET /api/sse/stream") && root.body().contains("POST /api/sse/events")
                    && root.body().contains("docs/sse_api_usage.md"), root.body());
            svc.process.destroy(); // SIGTERM: the shutdown must be clean too
            assertTrue(svc.process.waitFor(30, TimeUnit.SECONDS), "process exited");
            String out = svc.output();
            assertEquals(143, svc.process.exitValue(), "ended as a JVM ends on SIGTERM:\n" + out);
            assertTrue(out.contains("Profile prod activated") && out.contains("stopped in"), out);
            List<String> warnings = out.lines().filter(l -> WARNING.matcher(l).matches()).toList();
            assertTrue(warnings.isEmpty(), "no warning on a clean start: " + warnings + "\n" + out);
        }
    }

    /**
     * Starts the packaged service with these variables (beside a verification key, which the prod profile
     * needs) and returns what it printed before it exited.
     */
    private static String failedStart(Map<String, String> env) throws Exception {
        try (ServiceProcess svc = ServiceProcess.start(ServiceProcess.with(ServiceProcess.AUTH_ON, env))) {
            assertTrue(svc.process.waitFor(60, TimeUnit.SECONDS), "start-up should fail");
            String out = svc.output();
            assertNotEquals(0, svc.process.exitValue(), out);
            return out;
        }
    }

    /**
     * The prod profile turns authentication on: without the key that verifies tokens it does not start, and
     * says so in one line.
     */
    @Test
    void prodWithoutAVerificationKeyRefusesToStart() throws Exception {
        try (ServiceProcess svc = ServiceProcess.start(Map.of())) {
            assertTrue(svc.process.waitFor(60, TimeUnit.SECONDS), "start-up should fail");
            String out = svc.output();
            assertNotEquals(0, svc.process.exitValue(), out);
            assertTrue(out.contains("sse.auth.enabled=true needs the key that verifies tokens: set mp.jwt.verify.publickey.location"),
                    out);
            assertEquals(2, out.lines().filter(l -> !l.isBlank()).count(), "a header and one line:\n" + out);
        }
    }
}
