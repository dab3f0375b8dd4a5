package dev.ssehub.security;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.AuthOn;
import dev.ssehub.support.SseClient;
import dev.ssehub.support.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;

/**
 * The sse_topics claim limits the topics of a stream, at open and on every change (403 before any stream
 * byte); a stream ends at its token's exp with token_expired, within a second, and the client resumes with
 * a fresh token from its last event id without a gap.
 */
@QuarkusTest
@TestProfile(AuthOn.class)
class TopicAndExpiryTest {

    @BeforeEach
    void reset() {
        Api.resetAs(Tokens.admin().sign());
    }

    @Test
    void topicsOutsideTheTokensPatternsAre403AtOpenAndOnChange() {
        String token = Tokens.user("carol").topics("orders.*", "tenant.42.**").sign();
        for (String forbidden : new String[] { "invoices", "orders.eu.late", "tenant.43.x", "orders", "tenant.42" }) {
            given().header("Authorization", "Bearer " + token).queryParam("topic", "orders.eu").queryParam("topic", forbidden)
                    .get("/api/sse/stream").then().statusCode(403)
                    .contentType(startsWith("application/problem+json"))
                    .header("Content-Type", startsWith("application/problem+json"))
                    .body("detail", containsString(forbidden));
        }
        assertEquals(0, Api.activeConnections(Tokens.admin().sign()), "no refused stream was opened");
        try (Api.Opened o = Api.openAs(token, "topic=orders.eu&topic=tenant.42.a.b")) {
            String subs = "/api/sse/connections/" + o.clientId() + "/subscriptions";
            Api.as(token).contentType(ContentType.JSON).body("{\"add\":[\"orders.us\",\"invoices\"]}").post(subs)
                    .then().statusCode(403).body("detail", containsString("invoices"));
            // Not even an admin can widen a stream beyond its token.
            Api.as(Tokens.admin().sign()).contentType(ContentType.JSON).body("{\"add\":[\"invoices\"]}").post(subs)
                    .then().statusCode(403);
            Api.as(token).contentType(ContentType.JSON).body("{\"add\":[\"orders.us\"],\"remove\":[\"orders.eu\"]}").post(subs)
                    .then().statusCode(200).body("topics", equalTo(List.of("orders.us", "tenant.42.a.b")));
            String publisher = Tokens.publisher().sign();
            Api.publishAs(publisher, "{\"type\":\"t\",\"data\":\"invoice\",\"target\":{\"topics\":[\"invoices\"]}}");
            String id = Api.publishAs(publisher, "{\"type\":\"t\",\"data\":\"order\",\"target\":{\"topics\":[\"orders.us\"]}}")
                    .getString("id");
            SseClient.Frame f = o.client().await("t", Duration.ofSeconds(5));
            assertEquals(id, f.id());
            assertEquals("\"order\"", f.data());
            assertFalse(o.client().ended());
        }
        // Without the claim, any topic.
        try (Api.Opened o = Api.openAs(Tokens.user("dave").sign(), "topic=invoices&topic=anything.at.all")) {
            assertEquals(List.of("anything.at.all", "invoices"), o.established().getList("topics"));
        }
    }

    @Test
    void aStreamEndsAtItsTokensExpWithTokenExpiredAndResumesWithoutAGap() throws Exception {
        String publisher = Tokens.publisher().sign();
        try (Api.Opened warmUp = Api.openAs(Tokens.user("erin").sign(), "topic=warm-up")) {
            Api.publishAs(publisher, "{\"type\":\"warm_up\"}");
        }
        double expiredBefore = Api.metric("sse_connections_closed_total{reason=\"expired\"}");
        // exp is whole seconds: 2 to 3 s after the stream opens.
        Instant exp = Instant.ofEpochSecond(Instant.now().getEpochSecond() + 3);
        String shortLived = Tokens.user("erin").expiresAt(exp).sign();
        Set<String> published = new LinkedHashSet<>();
        AtomicBoolean publishing = new AtomicBoolean(true);
        Thread backend;
        List<String> firstStream = new ArrayList<>();
        try (Api.Opened o = Api.openAs(shortLived, "topic=feed")) {
            published.add(Api.publishAs(publisher, "{\"type\":\"tick\",\"data\":-1,\"target\":{\"topics\":[\"feed\"]}}")
                    .getString("id"));
            // Events keep coming across the expiry.
            backend = new Thread(() -> {
                int n = 0;
                while (publishing.get()) {
                    String id = Api.publishAs(publisher, "{\"type\":\"tick\",\"data\":" + n++ + ",\"target\":{\"topics\":[\"feed\"]}}")
                            .getString("id");
                    synchronized (published) {
                        published.add(id);
                    }
                    sleep(20);
                }
            }, "test-backend");
            backend.start();
            SseClient.Frame expired = null;
            while (expired == null) {
                SseClient.Frame f = o.client().next(Duration.ofSeconds(6));
                assertTrue(f != null, "a frame or token_expired before the stream ends");
                if ("tick".equals(f.event())) {
                    firstStream.add(f.id());
                } else if ("token_expired".equals(f.event())) {
                    expired = f;
                }
            }
            assertNull(expired.id(), "token_expired has no id: it does not move the last event id");
            assertEquals(exp.getEpochSecond(), JsonPath.from(expired.data()).getLong("exp"));
            assertTrue(o.client().awaitEnd(Duration.ofSeconds(3)), "the stream ends after token_expired");
            long endedAtMillis = System.currentTimeMillis() - (System.nanoTime() - o.client().endedNanos()) / 1_000_000;
            long late = endedAtMillis - exp.toEpochMilli();
            assertTrue(late >= -50 && late <= 1000, "the stream ended " + late + " ms after exp (at exp, not exp + skew)");
            assertTrue(o.client().next(Duration.ofMillis(50)) == null, "nothing after token_expired");
        }
        // The client reconnects with a fresh token from its last event id.
        String lastId = firstStream.get(firstStream.size() - 1);
        List<String> secondStream = new ArrayList<>();
        try (Api.Opened again = Api.open("topic=feed", lastId,
                Map.of("Authorization", "Bearer " + Tokens.user("erin").sign()))) {
            sleep(500);
            publishing.set(false);
            backend.join();
            int total;
            synchronized (published) {
                total = published.size();
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (firstStream.size() + secondStream.size() < total && System.nanoTime() < deadline) {
                SseClient.Frame f = again.client().next(Duration.ofMillis(100));
                if (f != null && "tick".equals(f.event())) {
                    secondStream.add(f.id());
                }
            }
        }
        List<String> all = new ArrayList<>(firstStream);
        all.addAll(secondStream);
        synchronized (published) {
            assertEquals(new ArrayList<>(published), all, "every event exactly once, in order, across the expiry");
        }
        assertTrue(!firstStream.isEmpty() && !secondStream.isEmpty(), "events on both sides of the expiry: "
                + firstStream.size() + " + " + secondStream.size());
        assertEquals(expiredBefore + 1, Api.metric("sse_connections_closed_total{reason=\"expired\"}"));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
