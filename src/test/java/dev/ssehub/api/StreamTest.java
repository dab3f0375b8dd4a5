package dev.ssehub.api;

import static dev.ssehub.support.Api.publish;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.SseClient;
import dev.ssehub.support.SseClient.Frame;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;

/** The stream's wire format, first frame, published events and heartbeats, over real HTTP. */
@QuarkusTest
class StreamTest {

    static final Pattern UUID4 = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    static final Pattern EVENT_ID = Pattern.compile("\\d{13}-\\d+");

    @BeforeEach
    void reset() {
        Api.reset();
    }

    @Test
    void firstFrameThenEventThenHeartbeats() {
        try (SseClient c = SseClient.connect(Api.stream("userId=alice&sessionId=s1&topic=news&type=notification"))) {
            assertEquals(200, c.status());
            var headers = c.response().headers();
            assertTrue(headers.firstValue("content-type").orElse("").startsWith("text/event-stream"));
            assertEquals("no-cache", headers.firstValue("cache-control").orElse(null));
            assertEquals("no", headers.firstValue("x-accel-buffering").orElse(null));

            Frame first = c.next(Duration.ofSeconds(5));
            assertNotNull(first, "first frame");
            assertEquals("retry: 3000", first.lines().get(0));
            assertEquals("event: connection_established", first.lines().get(1));
            assertNull(first.id(), "connection_established must not move Last-Event-ID");
            JsonPath d = JsonPath.from(first.data());
            assertTrue(UUID4.matcher(d.getString("clientId")).matches(), d.getString("clientId"));
            assertEquals("alice", d.getString("userId"));
            assertEquals("s1", d.getString("sessionId"));
            assertEquals(List.of("news"), d.getList("topics"));
            assertEquals(List.of("notification"), d.getList("types"));
            assertEquals(1000, d.getLong("heartbeatIntervalMs"));
            Instant serverTime = Instant.parse(d.getString("serverTime"));
            assertTrue(Duration.between(serverTime, Instant.now()).abs().toSeconds() < 5);

            JsonPath answer = publish("{\"type\":\"notification\",\"data\":{\"text\":\"hello\\nworld\",\"n\":1}}");
            String id = answer.getString("id");
            assertTrue(EVENT_ID.matcher(id).matches(), id);
            assertEquals(1, answer.getInt("delivered"));
            assertEquals("notification", answer.getString("type"));
            Instant.parse(answer.getString("timestamp"));

            Frame event = c.await("notification", Duration.ofSeconds(5));
            assertEquals(List.of("id: " + id, "event: notification", "data: {\"text\":\"hello\\nworld\",\"n\":1}"),
                    event.lines(), "wire format of a published event");

            // Heartbeats at the configured interval (1s in the test profile).
            List<Long> at = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Frame hb = c.await("heartbeat", Duration.ofSeconds(3));
                assertNull(hb.id());
                long ts = JsonPath.from(hb.data()).getLong("ts");
                assertTrue(Math.abs(ts - System.currentTimeMillis()) < 5000);
                at.add(System.nanoTime());
            }
            for (int i = 1; i < at.size(); i++) {
                long gapMs = (at.get(i) - at.get(i - 1)) / 1_000_000;
                assertTrue(gapMs > 500 && gapMs < 2500, "heartbeat gap " + gapMs + " ms");
            }
        }
    }

    @Test
    void threeClientsGetTheSameBroadcast() {
        List<Api.Opened> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                clients.add(Api.open(""));
            }
            JsonPath answer = publish("{\"type\":\"news\",\"data\":[1,2,3]}");
            assertEquals(3, answer.getInt("delivered"));
            for (Api.Opened o : clients) {
                Frame f = o.client().await("news", Duration.ofSeconds(5));
                assertEquals(answer.getString("id"), f.id());
                assertEquals("[1,2,3]", f.data());
            }
        } finally {
            clients.forEach(Api.Opened::close);
        }
    }

    @Test
    void testEventEndpointBroadcastsGenericEvent() {
        try (Api.Opened o = Api.open("")) {
            io.restassured.RestAssured.given().post("/api/sse/test-event").then().statusCode(202);
            Frame f = o.client().await("generic_event", Duration.ofSeconds(5));
            assertTrue(f.data().contains("\"message\":\"test event\""));
        }
    }

    @Test
    void resetClosesStreams() {
        try (Api.Opened o = Api.open("")) {
            Api.reset();
            assertTrue(o.client().awaitEnd(Duration.ofSeconds(5)), "stream ended by reset");
            assertEquals(0, Api.activeConnections());
        }
    }
}
