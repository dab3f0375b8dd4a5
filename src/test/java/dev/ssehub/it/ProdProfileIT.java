package dev.ssehub.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.ssehub.support.SseClient;
import dev.ssehub.support.Tokens;

/**
 * The packaged jar as a container runs it (prod profile, only the verification key configured):
 * authentication is on, the development endpoints are off, streaming and publishing work with tokens.
 * (The @QuarkusIntegrationTest classes run the same jar with the test profile.)
 */
class ProdProfileIT {

    static final HttpClient HTTP = HttpClient.newHttpClient();

    static HttpResponse<String> post(ServiceProcess svc, String path, String token, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(svc.base() + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void authIsOnDevEndpointsAreOffAndTheServiceWorks() throws Exception {
        try (ServiceProcess svc = ServiceProcess.start(ServiceProcess.AUTH_ON)) {
            svc.awaitReady(Duration.ofSeconds(30));
            assertEquals(401, svc.status("/api/sse/stats"), "prod: a token is required");
            String publisher = Tokens.publisher().sign();
            try (SseClient c = SseClient.connect(svc.base() + "/api/sse/stream?topic=prod", null,
                    Map.of("Authorization", "Bearer " + Tokens.user("alice").sign()))) {
                var hello = c.await("connection_established", Duration.ofSeconds(5));
                assertTrue(hello.data().contains("\"heartbeatIntervalMs\":15000"), "prod heartbeat interval: " + hello.data());
                assertTrue(hello.data().contains("\"userId\":\"alice\""), hello.data());
                for (String dev : new String[] { "/api/sse/reset", "/api/sse/test-event" }) {
                    HttpResponse<String> r = post(svc, dev, Tokens.admin().sign(), "");
                    assertEquals(404, r.statusCode(), dev + ": " + r.body());
                    assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/problem+json"), dev);
                    assertTrue(r.body().contains("sse.dev-endpoints"), r.body());
                }
                assertEquals(401, post(svc, "/api/sse/events", null, "{\"type\":\"prod\"}").statusCode());
                HttpResponse<String> r = post(svc, "/api/sse/events", publisher, "{\"type\":\"prod\",\"data\":{\"ok\":true}}");
                assertEquals(202, r.statusCode(), r.body());
                assertEquals("{\"ok\":true}", c.await("prod", Duration.ofSeconds(5)).data());
                // The token of docs/security.md's walk-through, minted by tools/mint-token.sh (openssl).
                String minted = mintWithScript();
                HttpResponse<String> scripted = post(svc, "/api/sse/events", minted, "{\"type\":\"prod\",\"data\":2}");
                assertEquals(202, scripted.statusCode(), scripted.body());
                assertEquals("2", c.await("prod", Duration.ofSeconds(5)).data());
                assertFalse(c.ended(), "stream still open after the dev endpoints were refused");
            }
        }
    }

    static String mintWithScript() throws Exception {
        Process p = new ProcessBuilder("bash", "tools/mint-token.sh", "src/test/resources/keys/rsa-private.pem", "script-backend",
                "sse-publisher", "300", Tokens.ISSUER, Tokens.AUDIENCE).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        assertEquals(0, p.waitFor(), out);
        return out;
    }
}
