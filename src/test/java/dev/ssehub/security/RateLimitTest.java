package dev.ssehub.security;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.SseClient;
import dev.ssehub.support.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;

/**
 * Publishers over sse.publish.rate / sse.publish.burst get 429 with Retry-After and their events reach no
 * one; stream opens over sse.connect.rate get 429; sse.auth.max-stream-lifetime ends long-lived tokens'
 * streams with token_expired.
 */
@QuarkusTest
@TestProfile(RateLimitTest.SmallLimits.class)
class RateLimitTest {

    public static class SmallLimits implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> m = new HashMap<>(Tokens.authOn());
            m.put("sse.publish.rate", "0.5");
            m.put("sse.publish.burst", "3");
            m.put("sse.connect.rate", "1");
            m.put("sse.auth.max-stream-lifetime", "2s");
            m.put("sse.cors.origins", "https://app.example");
            return m;
        }
    }

    @BeforeEach
    void reset() {
        Api.resetAs(Tokens.admin().sign());
    }

    @Test
    void publishesOverTheBurstGet429WithRetryAfterAndReachNoOne() {
        String pub = Tokens.user("backend-1").groups("sse-publisher").sign();
        String other = Tokens.user("backend-2").groups("sse-publisher").sign();
        double before = Api.metric("sse_rejected_total{reason=\"rate\"}");
        sleepMillis(1100); // sse.connect.rate is 1 per second here
        try (Api.Opened o = Api.openAs(Tokens.user("reader").sign(), "")) {
            // A batch of two and one single: the burst of 3.
            Api.as(pub).contentType(ContentType.JSON).body("[{\"type\":\"ok\",\"data\":1},{\"type\":\"ok\",\"data\":2}]")
                    .post("/api/sse/events/batch").then().statusCode(202);
            Api.publishAs(pub, "{\"type\":\"ok\",\"data\":3}");
            Response r = Api.as(pub).contentType(ContentType.JSON).body("{\"type\":\"over\",\"data\":4}").post("/api/sse/events");
            r.then().statusCode(429).contentType(startsWith("application/problem+json"))
                    .body("type", equalTo("urn:ssehub:problem:rate-limited"))
                    .body("status", equalTo(429))
                    .body("detail", containsString("sse.publish.rate"));
            // One token every 2 s (0.5/s): Retry-After is the refill time of one event, rounded up.
            int retryAfter = Integer.parseInt(r.header("Retry-After"));
            assertTrue(retryAfter >= 1 && retryAfter <= 2, "Retry-After " + retryAfter);
            Api.as(pub).contentType(ContentType.JSON).body("[{\"type\":\"over\"}]").post("/api/sse/events/batch")
                    .then().statusCode(429).header("Retry-After", org.hamcrest.Matchers.notNullValue());
            // A batch larger than the burst could never pass: 400, not a Retry-After that would never come true.
            Api.as(pub).contentType(ContentType.JSON).body("[{\"type\":\"x\"},{\"type\":\"x\"},{\"type\":\"x\"},{\"type\":\"x\"}]")
                    .post("/api/sse/events/batch").then().statusCode(400).body("detail", containsString("sse.publish.burst"));
            assertEquals(before + 2, Api.metric("sse_rejected_total{reason=\"rate\"}"));
            // Another publisher has its own bucket.
            Api.publishAs(other, "{\"type\":\"ok\",\"data\":5}");

            // (sse.auth.max-stream-lifetime is 2 s here: the live stream may end early; the log holds everything.)
            List<String> live = o.client().drainEvents(Duration.ofMillis(300)).stream().filter(f -> f.id() != null)
                    .map(SseClient.Frame::data).toList();
            assertEquals(List.of("1", "2", "3", "5").subList(0, live.size()), live, "the refused events reached no one");
        }
        sleepMillis(1100);
        try (Api.Opened replay = Api.open("", "0-0", Map.of("Authorization", "Bearer " + Tokens.user("reader").sign()))) {
            List<String> all = replay.client().drainEvents(Duration.ofMillis(500)).stream().filter(f -> f.id() != null)
                    .map(SseClient.Frame::data).toList();
            assertEquals(List.of("1", "2", "3", "5"), all, "nothing of a refused request was published");
        }
    }

    @Test
    void streamOpensOverTheConnectRateGet429() throws Exception {
        String token = Tokens.user("storm").sign();
        sleepMillis(1100); // a full bucket for this address (127.0.0.1)
        double before = Api.metric("sse_connections_rejected_total{reason=\"connect_rate\"}");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest open = HttpRequest.newBuilder(URI.create(Api.stream(""))).header("Authorization", "Bearer " + token).build();
        int opened = 0;
        HttpResponse<InputStream> refused = null;
        List<InputStream> streams = new ArrayList<>();
        try {
            for (int i = 0; i < 8 && refused == null; i++) {
                HttpResponse<InputStream> r = http.send(open, HttpResponse.BodyHandlers.ofInputStream());
                if (r.statusCode() == 429) {
                    refused = r;
                } else {
                    assertEquals(200, r.statusCode());
                    streams.add(r.body());
                    opened++;
                }
            }
            assertTrue(refused != null, "an open over sse.connect.rate is refused");
            assertTrue(opened >= 1, "opened before the refusal: " + opened);
            assertTrue(refused.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"));
            assertTrue(Integer.parseInt(refused.headers().firstValue("Retry-After").orElseThrow()) >= 1);
            JsonPath problem;
            try (InputStream body = refused.body()) {
                problem = JsonPath.from(new String(body.readAllBytes(), StandardCharsets.UTF_8));
            }
            assertEquals("urn:ssehub:problem:connect-rate", problem.getString("type"));
            assertEquals(429, problem.getInt("status"));
            assertTrue(problem.getString("detail").contains("sse.connect.rate"), problem.getString("detail"));
        } finally {
            for (InputStream s : streams) {
                s.close();
            }
        }
        assertTrue(Api.metric("sse_connections_rejected_total{reason=\"connect_rate\"}") > before);
    }

    @Test
    void maxStreamLifetimeEndsStreamsOfLongLivedTokens() {
        sleepMillis(1100);
        Instant opened = Instant.now();
        try (Api.Opened o = Api.openAs(Tokens.user("long").expiresIn(Duration.ofHours(1)).sign(), "")) {
            SseClient.Frame f = o.client().await("token_expired", Duration.ofSeconds(5));
            long exp = JsonPath.from(f.data()).getLong("exp");
            assertTrue(Math.abs(exp - opened.plusSeconds(2).getEpochSecond()) <= 1, "exp " + exp + " ~ open + 2 s");
            assertTrue(o.client().awaitEnd(Duration.ofSeconds(2)));
        }
    }

    /** Cookie tokens need credentials across origins: only the listed origin gets them. */
    @Test
    void onlyListedOriginsGetCredentials() {
        Api.as(Tokens.user("cors").sign()).header("Origin", "https://app.example").get("/api/sse/stats").then()
                .statusCode(200)
                .header("Access-Control-Allow-Origin", "https://app.example")
                .header("Access-Control-Allow-Credentials", "true");
        Response other = Api.as(Tokens.user("cors").sign()).header("Origin", "https://evil.example").get("/api/sse/stats");
        assertEquals(403, other.statusCode());
        assertEquals(null, other.header("Access-Control-Allow-Credentials"));
        assertEquals(null, other.header("Access-Control-Allow-Origin"));
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
