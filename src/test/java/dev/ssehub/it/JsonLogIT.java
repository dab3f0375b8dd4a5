package dev.ssehub.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ssehub.support.SseClient;
import dev.ssehub.support.Tokens;
import io.restassured.path.json.JsonPath;

/**
 * The packaged service in the prod profile with {@code QUARKUS_LOG_CONSOLE_JSON_ENABLED=true}: every line the
 * service logs is a JSON object; a stream's open and close and each refused publish carry the client id,
 * user id and reason as MDC fields; no token is in the output. The packaged jar also serves the demo page,
 * the client and the generated OpenAPI description, and not Swagger UI (dev only).
 */
class JsonLogIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void streamAndPublishRefusalLinesCarryTheirFieldsAsJson() throws Exception {
        Map<String, String> env = new HashMap<>(ServiceProcess.AUTH_ON);
        env.put("QUARKUS_LOG_CONSOLE_JSON_ENABLED", "true");
        env.put("SSE_PUBLISH_RATE", "1");
        env.put("SSE_PUBLISH_BURST", "1");
        try (ServiceProcess svc = ServiceProcess.start(env)) {
            svc.awaitReady(Duration.ofSeconds(30));
            String base = svc.base();
            String user = Tokens.user("json-user").sid("tab-1").sign();
            String publisher = Tokens.publisher().sign();
            String clientId;
            try (SseClient s = SseClient.connect(base + "/api/sse/stream?topic=a", null, Map.of("Authorization", "Bearer " + user))) {
                assertEquals(200, s.status());
                clientId = JsonPath.from(s.await("connection_established", Duration.ofSeconds(5)).data()).getString("clientId");
                assertEquals(403, post(base, user, "{\"type\":\"n\"}"));
                assertEquals(401, post(base, null, "{\"type\":\"n\"}"));
                assertEquals(202, post(base, publisher, "{\"type\":\"n\"}"));
                assertEquals(429, post(base, publisher, "{\"type\":\"n\"}"));
            }
            assertEquals(200, get(base + "/q/openapi").statusCode());
            assertEquals(404, get(base + "/q/swagger-ui/").statusCode(), "Swagger UI is in dev mode only");
            HttpResponse<String> page = get(base + "/");
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("/demo.js"), "the demo page");
            HttpResponse<String> js = get(base + "/sse-hub.js");
            assertEquals(200, js.statusCode());
            assertTrue(js.headers().firstValue("Content-Type").orElse("").contains("javascript"), "" + js.headers());
            assertTrue(js.body().contains("export class SseHubClient"), "the client module");

            List<JsonNode> lines = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (System.nanoTime() < deadline && find(lines, "stream_closed", m -> true) == null) {
                Thread.sleep(200);
                lines = parse(svc.output());
            }
            JsonNode opened = find(lines, "stream_opened", m -> clientId.equals(m.path("clientId").asText()));
            assertNotNull(opened, "stream_opened for " + clientId + ":\n" + svc.output());
            assertEquals("dev.ssehub.connections", opened.path("loggerName").asText());
            assertEquals("INFO", opened.path("level").asText());
            assertEquals("json-user", opened.path("mdc").path("userId").asText());
            assertEquals("tab-1", opened.path("mdc").path("sessionId").asText());
            assertTrue(opened.path("mdc").path("remoteAddress").asText().contains("127.0.0.1"), "" + opened);

            JsonNode closed = find(lines, "stream_closed", m -> clientId.equals(m.path("clientId").asText()));
            assertNotNull(closed, "stream_closed for " + clientId + ":\n" + svc.output());
            assertEquals("client", closed.path("mdc").path("reason").asText());
            assertEquals("json-user", closed.path("mdc").path("userId").asText());

            JsonNode forbidden = find(lines, "publish_refused", m -> "forbidden".equals(m.path("reason").asText()));
            assertNotNull(forbidden, svc.output());
            assertEquals("json-user", forbidden.path("mdc").path("userId").asText());
            assertEquals("403", forbidden.path("mdc").path("status").asText());
            assertEquals("dev.ssehub.publish", forbidden.path("loggerName").asText());
            JsonNode rate = find(lines, "publish_refused", m -> "rate-limited".equals(m.path("reason").asText()));
            assertNotNull(rate, svc.output());
            assertEquals("backend", rate.path("mdc").path("userId").asText());
            JsonNode anonymous = find(lines, "publish_refused", m -> "unauthorized".equals(m.path("reason").asText()));
            assertNotNull(anonymous, svc.output());
            assertFalse(anonymous.path("mdc").has("userId"), "no user without a token: " + anonymous);

            String output = svc.output();
            for (String token : List.of(user, publisher)) {
                assertFalse(output.contains(token.substring(token.lastIndexOf('.') + 1)), "a token is in the log");
            }
        }
    }

    /** Every line the service logged, each of which must be a JSON object (the JVM's own warnings aside). */
    private static List<JsonNode> parse(String output) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : output.split("\n")) {
            if (line.isBlank() || line.startsWith("WARNING:")) {
                continue;
            }
            assertTrue(line.startsWith("{"), "not a JSON line: " + line);
            out.add(JSON.readTree(line));
        }
        return out;
    }

    private static JsonNode find(List<JsonNode> lines, String event, Predicate<JsonNode> mdc) {
        for (JsonNode l : lines) {
            if (event.equals(l.path("mdc").path("event").asText()) && mdc.test(l.path("mdc"))) {
                return l;
            }
        }
        return null;
    }

    private static int post(String base, String token, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/api/sse/events")).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
