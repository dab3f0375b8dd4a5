package dev.ssehub.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
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

/** With a small replay log, a stale Last-Event-ID gets replay_truncated, then the events still held. */
@QuarkusTest
@TestProfile(ReplayTruncationTest.SmallLog.class)
class ReplayTruncationTest {

    public static class SmallLog implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("sse.replay.size", "5");
        }
    }

    @BeforeEach
    void reset() {
        Api.reset();
    }

    @Test
    void staleIdIsTruncatedThenHeldEventsReplay() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ids.add(Api.publish("{\"type\":\"t\",\"data\":" + i + "}").getString("id"));
        }
        assertEquals(5, Api.stats().getInt("replayBufferSize"));
        try (SseClient c = SseClient.connect(Api.stream(""), ids.get(1))) {
            c.await("connection_established", Duration.ofSeconds(5));
            List<Frame> got = c.drainEvents(Duration.ofMillis(600));
            assertEquals("replay_truncated", got.get(0).event());
            JsonPath d = JsonPath.from(got.get(0).data());
            assertEquals(ids.get(1), d.getString("requested"));
            assertEquals(ids.get(5), d.getString("oldest"));
            assertEquals(ids.subList(5, 10), got.subList(1, got.size()).stream().map(Frame::id).toList());
        }
        // An id still inside the window is not truncated.
        try (SseClient c = SseClient.connect(Api.stream(""), ids.get(6))) {
            c.await("connection_established", Duration.ofSeconds(5));
            List<Frame> got = c.drainEvents(Duration.ofMillis(600));
            assertEquals(ids.subList(7, 10), got.stream().map(Frame::id).toList());
        }
    }
}
