package dev.ssehub.it;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** An invalid sse.* value stops start-up with a message that names the key. */
class ConfigIT {

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({
            "SSE_QUEUE_SIZE, 0, sse.queue-size",
            "SSE_MAX_CLIENTS, lots, sse.max-clients",
            "SSE_HEARTBEAT_INTERVAL, 0s, sse.heartbeat.interval",
            "SSE_SLOW_CONSUMER, sometimes, sse.slow-consumer",
            "SSE_BACKPLANE, redis, sse.backplane",
            "SSE_MAX_BATCH_BYTES, 1000, sse.max-batch-bytes",
            "SSE_HTTP_HEADER_TIMEOUT, 0s, sse.http.header-timeout",
            "SSE_HTTP_BODY_TOTAL_BYTES, 16M, sse.http.body-total-bytes",
            "QUARKUS_HTTP_IDLE_TIMEOUT, 5s, quarkus.http.idle-timeout",
            "SSE_PUBLISH_BURST, 0, sse.publish.burst",
            "SSE_CONNECT_RATE, -1, sse.connect.rate",
            "SSE_AUTH_MAX_STREAM_LIFETIME, 0s, sse.auth.max-stream-lifetime",
    })
    void invalidValueFailsStartupNamingTheKey(String env, String value, String key) throws Exception {
        try (ServiceProcess svc = ServiceProcess.start(Map.of(env, value))) {
            assertTrue(svc.process.waitFor(60, TimeUnit.SECONDS), "start-up should fail");
            String out = svc.output();
            assertNotEquals(0, svc.process.exitValue(), out);
            assertTrue(out.contains(key), "output names " + key + ":\n" + out);
        }
    }

    /** The prod profile turns authentication on: without the key that verifies tokens it does not start. */
    @Test
    void prodWithoutAVerificationKeyRefusesToStart() throws Exception {
        try (ServiceProcess svc = ServiceProcess.start(Map.of())) {
            assertTrue(svc.process.waitFor(60, TimeUnit.SECONDS), "start-up should fail");
            String out = svc.output();
            assertNotEquals(0, svc.process.exitValue(), out);
            assertTrue(out.contains("sse.auth.enabled=true needs the key that verifies tokens: set mp.jwt.verify.publickey.location"),
                    out);
        }
    }
}
