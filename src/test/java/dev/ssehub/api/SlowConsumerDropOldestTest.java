package dev.ssehub.api;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/** The stall of {@link SlowConsumerTest} under {@code sse.slow-consumer=drop-oldest}: it stays connected and shows dropped events. */
@QuarkusTest
@TestProfile(SlowConsumerDropOldestTest.Profile.class)
class SlowConsumerDropOldestTest extends SlowConsumerTest {

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("sse.slow-consumer", "drop-oldest");
        }
    }

    @Test
    @Override
    void stalledClientIsDisconnectedAndOthersGetEverything() throws Exception {
        Result r = run();
        assertTrue(r.maxQueued() <= QUEUE, "stalled outbox peaked at " + r.maxQueued());
        assertTrue(r.stalledConnected(), "stalled client still connected");
        assertTrue(r.dropped() > EVENTS / 2, "dropped " + r.dropped());
        assertTrue(Api.metric("sse_events_dropped_total{reason=\"slow_consumer\"}") > EVENTS / 2);
    }
}
