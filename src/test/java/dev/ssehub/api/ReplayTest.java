package dev.ssehub.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.SseClient;
import dev.ssehub.support.SseClient.Frame;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;

/** Last-Event-ID replay: nothing lost, nothing duplicated, targets honoured; idempotent publishing. */
@QuarkusTest
class ReplayTest {

    static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    @BeforeEach
    void reset() {
        Api.reset();
    }

    @Test
    void tenThousandEventsWithThreeAbruptReconnectsArriveExactlyOnceInOrder() throws Exception {
        int total = 10_000;
        List<String> published = Collections.synchronizedList(new ArrayList<>(total));
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        URI events = URI.create(Api.base() + "/api/sse/events");
        SseClient client = SseClient.connect(Api.stream("userId=resumer"));
        client.await("connection_established", Duration.ofSeconds(5));

        CompletableFuture<Void> publisher = new CompletableFuture<>();
        Thread publishing = new Thread(() -> {
            try {
                for (int i = 0; i < total; i++) {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(events)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"seq\",\"data\":" + i + "}")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() != 202) {
                        throw new IllegalStateException("publish " + i + ": " + r.statusCode() + " " + r.body());
                    }
                    // Jackson, not RestAssured's JsonPath: that compiles a Groovy script per call.
                    published.add(JSON.readTree(r.body()).get("id").textValue());
                }
                publisher.complete(null);
            } catch (Exception e) {
                publisher.completeExceptionally(e);
            }
        }, "publisher");
        publishing.start();

        List<String> received = new ArrayList<>(total);
        int reconnects = 0;
        int[] cutAt = { 1500, 4000, 7000 };
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (received.size() < total && System.nanoTime() < deadline) {
            if (reconnects < cutAt.length && received.size() >= cutAt[reconnects]) {
                // Abrupt: drop the connection with whatever it still had in flight, then resume.
                client.close();
                String last = received.get(received.size() - 1);
                client = SseClient.connect(Api.stream("userId=resumer"), last);
                assertEquals(200, client.status());
                Frame first = client.await(f -> f.event() != null && !"heartbeat".equals(f.event()),
                        Duration.ofSeconds(5), "first frame");
                assertEquals("connection_established", first.event());
                reconnects++;
                continue;
            }
            Frame f = client.next(Duration.ofSeconds(10));
            if (f == null) {
                break;
            }
            if ("seq".equals(f.event())) {
                received.add(f.id());
            } else {
                assertTrue(f.isComment() || "heartbeat".equals(f.event()), "unexpected frame " + f);
            }
        }
        client.close();
        publisher.get();
        assertEquals(3, reconnects);
        assertEquals(total, published.size());
        assertEquals(published, received, "received ids are exactly the published ids, in order");
    }

    @Test
    void replayHonoursTargetsTopicsAndTypes() {
        String last;
        try (Api.Opened o = Api.open("userId=carol&topic=eu&type=order&type=alert")) {
            last = Api.publish("{\"type\":\"order\",\"data\":0,\"target\":{\"userIds\":[\"carol\"]}}").getString("id");
            assertEquals(last, o.client().await("order", Duration.ofSeconds(5)).id());
        }
        Api.eventually(Duration.ofSeconds(5), "gone", () -> Api.activeConnections() == 0);
        List<String> expected = new ArrayList<>();
        expected.add(Api.publish("{\"type\":\"order\",\"data\":1,\"target\":{\"userIds\":[\"carol\"]}}").getString("id"));
        Api.publish("{\"type\":\"order\",\"data\":2,\"target\":{\"userIds\":[\"dave\"]}}");
        expected.add(Api.publish("{\"type\":\"alert\",\"data\":3,\"target\":{\"topics\":[\"eu\"]}}").getString("id"));
        Api.publish("{\"type\":\"alert\",\"data\":4,\"target\":{\"topics\":[\"us\"]}}");
        Api.publish("{\"type\":\"chat\",\"data\":5,\"target\":{\"userIds\":[\"carol\"]}}");
        expected.add(Api.publish("{\"type\":\"order\",\"data\":6}").getString("id"));
        Api.publish("{\"type\":\"order\",\"data\":7,\"target\":{\"userIds\":[\"carol\"],\"topics\":[\"us\"]}}");
        try (SseClient c = SseClient.connect(Api.stream("userId=carol&topic=eu&type=order&type=alert&lastEventId=" + last))) {
            c.await("connection_established", Duration.ofSeconds(5));
            expected.add(Api.publish("{\"type\":\"alert\",\"data\":8,\"target\":{\"userIds\":[\"carol\"]}}").getString("id"));
            List<Frame> got = c.drainEvents(Duration.ofMillis(800));
            assertEquals(expected, got.stream().map(Frame::id).toList());
            assertEquals(List.of("1", "3", "6", "8"), got.stream().map(Frame::data).toList());
        }
    }

    @Test
    void lastEventIdFromBeforeThisProcessIsTruncated() {
        try (SseClient c = SseClient.connect(Api.stream(""), "1000-0")) {
            c.await("connection_established", Duration.ofSeconds(5));
            Frame t = c.await(f -> f.event() != null && !"heartbeat".equals(f.event()), Duration.ofSeconds(5), "truncated");
            assertEquals("replay_truncated", t.event());
            assertNull(t.id());
            assertEquals("1000-0", JsonPath.from(t.data()).getString("requested"));
        }
    }

    @Test
    void idempotentPublishDeliversOnce() {
        try (Api.Opened o = Api.open("")) {
            JsonPath first = Api.publish("{\"type\":\"pay\",\"id\":\"order-42\",\"data\":{\"amount\":5}}");
            JsonPath again = Api.publish("{\"type\":\"pay\",\"id\":\"order-42\",\"data\":{\"amount\":5}}");
            assertEquals(1, first.getInt("delivered"));
            assertNull(first.get("duplicate"));
            assertEquals(0, again.getInt("delivered"));
            assertEquals(true, again.getBoolean("duplicate"));
            assertEquals(first.getString("id"), again.getString("id"));
            List<Frame> got = o.client().drainEvents(Duration.ofMillis(500));
            assertEquals(List.of(first.getString("id")), got.stream().map(Frame::id).toList());
            assertEquals(1, Api.stats().getLong("eventsPublished"));
        }
    }
}
