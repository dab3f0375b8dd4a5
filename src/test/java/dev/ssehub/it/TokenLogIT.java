package dev.ssehub.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.ssehub.support.SseClient;
import dev.ssehub.support.Tokens;

/**
 * The packaged service, with the HTTP access log on and the service's and the security libraries' loggers
 * at DEBUG, goes through every path a token takes (header, access_token parameter, cookie; accepted,
 * refused as malformed, badly signed, expired, from another issuer; 400, 403, 404 and 429 answers with a
 * token in the query; a stream that ends at its token's expiry): its whole log then contains none of the
 * tokens minted.
 */
class TokenLogIT {

    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void noTokenReachesTheLog() throws Exception {
        Map<String, String> env = new HashMap<>(ServiceProcess.AUTH_ON);
        env.put("QUARKUS_HTTP_ACCESS_LOG_ENABLED", "true");
        env.put("QUARKUS_LOG_CATEGORY__DEV_SSEHUB__LEVEL", "DEBUG");
        env.put("QUARKUS_LOG_CATEGORY__IO_QUARKUS_SMALLRYE_JWT__LEVEL", "DEBUG");
        env.put("QUARKUS_LOG_CATEGORY__IO_SMALLRYE_JWT__LEVEL", "DEBUG");
        env.put("QUARKUS_LOG_CATEGORY__IO_QUARKUS_SECURITY__LEVEL", "DEBUG");
        env.put("QUARKUS_LOG_CATEGORY__IO_QUARKUS_VERTX_HTTP_RUNTIME_SECURITY__LEVEL", "DEBUG");
        env.put("SSE_AUTH_MAX_STREAM_LIFETIME", "2s");
        env.put("SSE_PUBLISH_RATE", "1");
        env.put("SSE_PUBLISH_BURST", "2");
        try (ServiceProcess svc = ServiceProcess.start(env)) {
            svc.awaitReady(Duration.ofSeconds(30));
            String base = svc.base() + "/api/sse";
            List<SseClient> streams = new ArrayList<>();
            try {
                streams.add(SseClient.connect(base + "/stream?topic=a", null,
                        Map.of("Authorization", "Bearer " + Tokens.user("by-header").sign())));
                streams.add(SseClient.connect(base + "/stream?topic=a&access_token=" + Tokens.user("by-query").sign(), null, Map.of()));
                streams.add(SseClient.connect(base + "/stream?topic=a", null,
                        Map.of("Cookie", "sse_token=" + Tokens.user("by-cookie").sign())));
                for (SseClient s : streams) {
                    assertEquals(200, s.status());
                    s.await("connection_established", Duration.ofSeconds(5));
                }
                String publisher = Tokens.publisher().sign();
                assertEquals(202, send("POST", base + "/events", Map.of("Authorization", "Bearer " + publisher), "{\"type\":\"n\"}"));
                assertEquals(202, send("POST", base + "/events?access_token=" + publisher, Map.of(), "{\"type\":\"n\"}"));
                assertEquals(429, send("POST", base + "/events?access_token=" + publisher, Map.of(), "{\"type\":\"n\"}"));
                for (SseClient s : streams) {
                    s.await("n", Duration.ofSeconds(5));
                }
                String[] bad = { "not-a-token", Tokens.user("x").badSignature().sign(), Tokens.user("x").issuer("https://evil").sign(),
                        Tokens.user("x").expiresAt(Instant.now().minusSeconds(600)).sign(),
                        Tokens.user("x").expiresAt(Instant.now().minusSeconds(5)).sign() };
                for (String t : bad) {
                    assertEquals(401, send("GET", base + "/stream?access_token=" + t, Map.of(), null));
                    int stats = send("GET", base + "/stats", Map.of("Authorization", "Bearer " + t), null);
                    // (a token expired 5 s ago is still within the verifier's clock skew for the API)
                    assertTrue(stats == 401 || stats == 200, "stats: " + stats);
                    assertEquals(401, send("GET", base + "/stream", Map.of("Cookie", "sse_token=" + t), null));
                }
                String user = Tokens.user("someone").topics("a").sign();
                assertEquals(403, send("GET", base + "/connections?access_token=" + user, Map.of(), null));
                assertEquals(403, send("GET", base + "/stream?topic=b&access_token=" + user, Map.of(), null));
                assertEquals(400, send("GET", base + "/stream?type=bad%20type&access_token=" + user, Map.of(), null));
                assertEquals(404, send("GET", base + "/nothing?access_token=" + user, Map.of(), null));
                assertEquals(404, send("DELETE", base + "/connections/none?access_token=" + Tokens.admin().sign(), Map.of(), null));
                // sse.auth.max-stream-lifetime ends the streams: their end is logged too.
                for (SseClient s : streams) {
                    s.await("token_expired", Duration.ofSeconds(5));
                    assertTrue(s.awaitEnd(Duration.ofSeconds(3)));
                }
            } finally {
                streams.forEach(SseClient::close);
            }
            Thread.sleep(500); // the access log of the last requests
            String log = svc.output();
            assertTrue(log.contains("GET /api/sse/stream"), "the access log is on:\n" + log);
            assertTrue(log.contains("DEBUG"), "DEBUG logging is on");
            assertTrue(Tokens.minted().size() >= 8, "tokens minted: " + Tokens.minted().size());
            for (String token : Tokens.minted()) {
                String signature = token.substring(token.lastIndexOf('.') + 1);
                assertFalse(log.contains(token), "a token is in the log:\n" + log);
                assertFalse(log.contains(signature), "a token's signature is in the log:\n" + log);
            }
            assertFalse(log.contains("not-a-token"), "a malformed token is in the log:\n" + log);
        }
    }

    static int send(String method, String url, Map<String, String> headers, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
        headers.forEach(b::header);
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode();
    }
}
