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

/**
 * The packaged jar as a container runs it (prod profile, no settings): the development endpoints are
 * off, streaming and publishing work. (The @QuarkusIntegrationTest classes run the same jar with the
 * test profile.)
 */
class ProdProfileIT {

    static final HttpClient HTTP = HttpClient.newHttpClient();

    static HttpResponse<String> post(ServiceProcess svc, String path, String json) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(svc.base() + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void devEndpointsAreOffAndTheServiceWorks() throws Exception {
        try (ServiceProcess svc = ServiceProcess.start(Map.of())) {
            svc.awaitReady(Duration.ofSeconds(30));
            try (SseClient c = SseClient.connect(svc.base() + "/api/sse/stream?topic=prod")) {
                var hello = c.await("connection_established", Duration.ofSeconds(5));
                assertTrue(hello.data().contains("\"heartbeatIntervalMs\":15000"), "prod heartbeat interval: " + hello.data());
                for (String dev : new String[] { "/api/sse/reset", "/api/sse/test-event" }) {
                    HttpResponse<String> r = post(svc, dev, "");
                    assertEquals(404, r.statusCode(), dev + ": " + r.body());
                    assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/problem+json"), dev);
                    assertTrue(r.body().contains("sse.dev-endpoints"), r.body());
                }
                HttpResponse<String> r = post(svc, "/api/sse/events", "{\"type\":\"prod\",\"data\":{\"ok\":true}}");
                assertEquals(202, r.statusCode(), r.body());
                assertEquals("{\"ok\":true}", c.await("prod", Duration.ofSeconds(5)).data());
                assertFalse(c.ended(), "stream still open after the dev endpoints were refused");
            }
        }
    }
}
