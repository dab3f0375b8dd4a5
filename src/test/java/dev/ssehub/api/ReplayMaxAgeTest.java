package dev.ssehub.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.SseClient;
import dev.ssehub.support.SseClient.Frame;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;

/**
 * The replay window is also bounded in time: events older than sse.replay.max-age leave the log, a
 * client resuming from one is told it missed events, and an idempotency key counts only while its event
 * is in the window, even when nothing was published since.
 */
@QuarkusTest
@TestProfile(ReplayMaxAgeTest.ShortWindow.class)
class ReplayMaxAgeTest {

    public static class ShortWindow implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("sse.replay.max-age", "3s");
        }
    }

    @BeforeEach
    void reset() {
        Api.reset();
    }

    @Test
    void keysAndEventsExpireWithTheWindow() {
        String body = "{\"id\":\"order-42\",\"type\":\"t\",\"data\":1}";
        JsonPath first = Api.publish(body);
        assertFalse(duplicate(first));
        JsonPath again = Api.publish(body);
        assertTrue(duplicate(again), "same key inside the window");
        assertEquals(first.getString("id"), again.getString("id"));
        Api.publish("{\"type\":\"t\",\"data\":2}"); // the event the client will have missed

        // No publishing now: the heartbeat tick (1 s in tests) ages the event out of the log.
        Api.eventually(Duration.ofSeconds(10), "the event to age out of the replay log",
                () -> Api.stats().getInt("replayBufferSize") == 0);

        try (SseClient c = SseClient.connect(Api.stream(""), first.getString("id"))) {
            c.await("connection_established", Duration.ofSeconds(5));
            List<Frame> got = c.drainEvents(Duration.ofMillis(500));
            // The event after the client's id aged out before the client came back: it is told so.
            assertEquals(1, got.size(), "only the truncation notice: " + got);
            assertEquals("replay_truncated", got.get(0).event());
            assertEquals(first.getString("id"), JsonPath.from(got.get(0).data()).getString("requested"));

            JsonPath later = Api.publish(body);
            assertFalse(duplicate(later), "the key's event left the window: a new event");
            assertNotEquals(first.getString("id"), later.getString("id"));
            assertEquals(1, later.getInt("delivered"));
            assertEquals(later.getString("id"), c.await("t", Duration.ofSeconds(5)).id());
        }
    }

    /** The answer carries "duplicate": true only for a repeated key. */
    private static boolean duplicate(JsonPath answer) {
        return Boolean.TRUE.equals(answer.get("duplicate"));
    }
}
