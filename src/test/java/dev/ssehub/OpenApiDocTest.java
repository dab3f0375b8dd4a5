package dev.ssehub;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import jakarta.ws.rs.HttpMethod;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import dev.ssehub.api.ConnectionsResource;
import dev.ssehub.api.EventsResource;
import dev.ssehub.api.Problems;
import dev.ssehub.api.StatsResource;
import dev.ssehub.api.StreamResource;
import dev.ssehub.hub.Connection;
import dev.ssehub.hub.ControlFrames;
import dev.ssehub.hub.WireFormat;
import dev.ssehub.observability.StatsFeed;
import dev.ssehub.support.Api;
import dev.ssehub.support.SseClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;

/**
 * The OpenAPI description that quarkus-smallrye-openapi generates from the resources, served at
 * {@code /q/openapi}, against the code and the running service: it parses as an OpenAPI 3 document whose
 * references all resolve; its operations are exactly the JAX-RS resource methods; every operation answers;
 * every error status the running service gives (provoked here, with small limits) is documented for that
 * operation, and every documented one is provoked or named below as impossible to provoke here; the schemas
 * name the fields of the Java records and of the request validation. 401 and 403 are checked with
 * authentication on by {@link OpenApiAuthDocTest}.
 */
@QuarkusTest
@TestProfile(OpenApiDocTest.SmallLimits.class)
class OpenApiDocTest {

    /** Limits small enough to reach: 2 streams per user, 6 per instance, a publisher bucket of 20. */
    public static class SmallLimits implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("sse.max-clients", "6", "sse.max-connections-per-user", "2", "sse.publish.rate", "1",
                    "sse.publish.burst", "20", "sse.max-event-bytes", "1024");
        }
    }

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Set<String> HTTP_METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options",
            "trace");

    /**
     * Error statuses documented but not provoked by these tests, and why: a failure of the service itself
     * (500), a backplane that cannot take events (503 on publish: RedisBackplaneIT stops its Redis for that),
     * and the security layer's 401 and 403 (OpenApiAuthDocTest).
     */
    static final Set<String> NOT_PROVOKED_HERE = Set.of("500", "401", "403", "POST /api/sse/events 503",
            "POST /api/sse/events/batch 503");

    /** Bodies that the operations accept; an operation with a request body and no entry here gets {@code {}}. */
    private static final Map<String, String> SAMPLE_BODIES = Map.of(
            "POST /api/sse/events", "{\"type\":\"openapi_check\",\"data\":{\"n\":1},\"target\":{\"topics\":[\"openapi-doc\"]}}",
            "POST /api/sse/events/batch", "[{\"type\":\"openapi_check\"},{\"type\":\"openapi_check\",\"data\":2}]",
            "POST /api/sse/connections/{clientId}/subscriptions", "{\"add\":[\"openapi-doc-2\"],\"remove\":[\"openapi-doc\"]}");

    @Test
    void isAnOpenApi3DocumentWhoseReferencesResolve() {
        Spec spec = Spec.fetch();
        assertTrue(spec.root.path("openapi").asText().startsWith("3."), "openapi: " + spec.root.path("openapi"));
        assertEquals("SSE Hub", spec.root.path("info").path("title").asText());
        assertFalse(spec.root.path("info").path("version").asText().isEmpty(), "info.version");
        assertTrue(spec.root.path("paths").isObject() && spec.root.path("paths").size() > 0, "paths");
        List<String> refs = new ArrayList<>();
        collectRefs(spec.root, refs);
        assertTrue(refs.size() > 20, "references: " + refs.size());
        for (String ref : refs) {
            assertTrue(ref.startsWith("#/"), "a local reference: " + ref);
            JsonNode target = spec.root.at(ref.substring(1));
            assertFalse(target.isMissingNode(), "reference " + ref + " resolves");
        }
        // The three token sources are the security schemes, and they apply to the API.
        JsonNode schemes = spec.root.path("components").path("securitySchemes");
        assertEquals("bearer", schemes.path("bearer").path("scheme").asText());
        assertEquals("query", schemes.path("accessToken").path("in").asText());
        assertEquals("access_token", schemes.path("accessToken").path("name").asText());
        assertEquals("cookie", schemes.path("cookie").path("in").asText());
        assertEquals("sse_token", schemes.path("cookie").path("name").asText());
        assertEquals(3, spec.root.path("security").size(), "global security: " + spec.root.path("security"));
    }

    @Test
    void documentsExactlyTheResourceMethodsOfTheCode() throws Exception {
        Spec spec = Spec.fetch();
        Set<String> code = resourceOperations();
        assertTrue(code.contains("GET /api/sse/stream") && code.size() >= 9, "resource scan found " + code);
        Set<String> documented = spec.operations.keySet();
        assertEquals(new TreeSet<>(code), new TreeSet<>(documented),
                "undocumented: " + minus(code, documented) + "; documented but not in the code: " + minus(documented, code));
        spec.operations.forEach((op, node) -> {
            assertTrue(spec.statuses(op).stream().anyMatch(s -> s.startsWith("2")), op + " documents its success");
            assertTrue(spec.statuses(op).contains("500"), op + " documents 500");
            for (String s : spec.statuses(op)) {
                if ((s.startsWith("4") || s.startsWith("5")) && !op.startsWith("HEAD ")) { // a HEAD answer has no body
                    JsonNode r = spec.response(op, s);
                    assertTrue(r.path("content").has(Problems.MEDIA_TYPE), op + " " + s + " is a problem: " + r);
                    if (s.equals("429") || s.equals("503")) {
                        assertTrue(r.path("headers").has("Retry-After"), op + " " + s + " documents Retry-After");
                    }
                }
            }
        });
        // The stream: its media type, its event types and their data.
        JsonNode ok = spec.response("GET /api/sse/stream", "200").path("content").path("text/event-stream");
        assertFalse(ok.isMissingNode(), "the stream documents text/event-stream");
        JsonNode events = ok.path("x-sse-events");
        for (String control : List.of("connection_established", "heartbeat", "replay_truncated", "token_expired", "stats")) {
            assertTrue(events.has(control), "x-sse-events lists " + control + ": " + events);
            String ref = events.path(control).path("data").path("$ref").asText();
            assertFalse(spec.root.at(ref.substring(1)).isMissingNode(), control + " data: " + ref);
        }
        Set<String> params = new TreeSet<>();
        spec.operations.get("GET /api/sse/stream").path("parameters").forEach(p -> params.add(p.path("name").asText()));
        assertEquals(new TreeSet<>(List.of("topic", "type", "sessionId", "userId", "lastEventId", "stats", "access_token",
                "Last-Event-ID")), params, "the stream's parameters");
    }

    @Test
    void everyOperationAnswersAndEveryErrorStatusOfTheRunningServiceIsDocumented() throws Exception {
        Api.reset();
        Spec spec = Spec.fetch();
        Map<String, Set<String>> seen = new TreeMap<>();
        List<SseClient> streams = new ArrayList<>();
        try {
            SseClient stream = SseClient.connect(Api.stream("topic=openapi-doc&userId=doc"));
            streams.add(stream);
            saw(seen, spec, "GET /api/sse/stream", stream.status());
            String clientId = JsonPath.from(stream.await("connection_established", Duration.ofSeconds(5)).data())
                    .getString("clientId");
            assertNotNull(clientId);

            // Every operation with a valid request; closing the stream and the reset go last.
            List<String> ops = spec.operations.keySet().stream().filter(op -> !op.equals("GET /api/sse/stream"))
                    .sorted(Comparator.comparingInt(OpenApiDocTest::rank)).toList();
            for (String op : ops) {
                String method = op.substring(0, op.indexOf(' '));
                String path = op.substring(op.indexOf(' ') + 1).replace("{clientId}", clientId);
                String sample = SAMPLE_BODIES.get(op);
                if (sample == null && spec.operations.get(op).has("requestBody")) {
                    sample = "{}";
                }
                if (op.startsWith("DELETE ") || op.endsWith("/reset")) {
                    // First the refusals that need the stream.
                    continue;
                }
                Response r = sample == null ? given().request(method, path)
                        : given().contentType(ContentType.JSON).body(sample).request(method, path);
                assertTrue(r.statusCode() / 100 == 2, op + " answered " + r.statusCode() + ": " + r.asString());
                saw(seen, spec, op, r.statusCode());
            }

            // The error statuses, each provoked for real.
            saw(seen, spec, "GET /api/sse/stream", given().get("/api/sse/stream?type=bad%20type").statusCode());
            saw(seen, spec, "GET /api/sse/stream", given().header("Accept", "application/json").get("/api/sse/stream").statusCode());
            saw(seen, spec, "HEAD /api/sse/stream", given().head("/api/sse/stream?type=bad%20type").statusCode());
            saw(seen, spec, "HEAD /api/sse/stream", given().header("Accept", "application/json").head("/api/sse/stream").statusCode());
            streams.add(SseClient.connect(Api.stream("userId=doc")));
            SseClient third = SseClient.connect(Api.stream("userId=doc"));
            streams.add(third);
            saw(seen, spec, "GET /api/sse/stream", third.status()); // 429: two per user
            for (int i = 0; i < 4; i++) {
                streams.add(SseClient.connect(Api.stream("")));
            }
            SseClient full = SseClient.connect(Api.stream(""));
            streams.add(full);
            saw(seen, spec, "GET /api/sse/stream", full.status()); // 503: six per instance
            for (String op : List.of("POST /api/sse/events", "POST /api/sse/events/batch")) {
                String path = op.substring(5);
                boolean batch = op.endsWith("batch");
                String big = "{\"type\":\"t\",\"data\":\"" + "x".repeat(2000) + "\"}";
                saw(seen, spec, op, post(path, batch ? "[{\"type\":\"bad type\"}]" : "{\"type\":\"bad type\"}"));
                saw(seen, spec, op, post(path, batch ? "[" + big + "]" : big));
                saw(seen, spec, op, given().contentType(ContentType.TEXT).body("{}").post(path).statusCode());
            }
            // 429: the bucket holds 20 events and refills one per second; empty it, then ask for more.
            int single = 202;
            for (int i = 0; i < 60 && single == 202; i++) {
                single = post("/api/sse/events", "{\"type\":\"t\"}");
            }
            saw(seen, spec, "POST /api/sse/events", single);
            String twenty = "[" + String.join(",", Collections.nCopies(20, "{\"type\":\"t\"}")) + "]";
            saw(seen, spec, "POST /api/sse/events/batch", post("/api/sse/events/batch", twenty));
            saw(seen, spec, "GET /api/sse/connections", given().get("/api/sse/connections?limit=0").statusCode());
            saw(seen, spec, "GET /api/sse/stats", given().queryParam("userId", "a b").get("/api/sse/stats").statusCode());
            String subs = "POST /api/sse/connections/{clientId}/subscriptions";
            String subsPath = "/api/sse/connections/" + clientId + "/subscriptions";
            saw(seen, spec, subs, post(subsPath, "{\"zz\":[]}"));
            saw(seen, spec, subs, given().contentType(ContentType.TEXT).body("{}").post(subsPath).statusCode());
            saw(seen, spec, subs, post("/api/sse/connections/none/subscriptions", "{}"));
            saw(seen, spec, "DELETE /api/sse/connections/{clientId}", given().delete("/api/sse/connections/none").statusCode());
            saw(seen, spec, "DELETE /api/sse/connections/{clientId}",
                    given().delete("/api/sse/connections/" + clientId).statusCode());
            saw(seen, spec, "POST /api/sse/reset", given().post("/api/sse/reset").statusCode());
        } finally {
            streams.forEach(SseClient::close);
        }

        // The 404 of development endpoints that are off is ProdProfileIT's (the packaged jar, prod profile);
        // everything else documented was seen here or is named in NOT_PROVOKED_HERE.
        for (String op : spec.operations.keySet()) {
            for (String status : spec.statuses(op)) {
                boolean devOff = status.equals("404") && (op.endsWith("/reset") || op.endsWith("/test-event"));
                assertTrue(seen.getOrDefault(op, Set.of()).contains(status) || devOff
                        || NOT_PROVOKED_HERE.contains(status) || NOT_PROVOKED_HERE.contains(op + " " + status),
                        op + " documents " + status + ", which no request here provoked; seen: " + seen);
            }
        }
    }

    @Test
    void schemasMatchTheJavaRecordsAndTheRequestValidation() {
        Api.reset();
        Spec spec = Spec.fetch();
        Map<String, Class<?>> records = new LinkedHashMap<>();
        records.put("Published", EventsResource.Published.class);
        records.put("Page", ConnectionsResource.Page.class);
        records.put("ConnectionView", ConnectionsResource.ConnectionView.class);
        records.put("Subscriptions", ConnectionsResource.Subscriptions.class);
        records.put("StatsView", StatsResource.StatsView.class);
        records.put("Problem", Problems.Problem.class);
        records.put("Established", ControlFrames.Established.class);
        records.put("Heartbeat", ControlFrames.Heartbeat.class);
        records.put("Truncated", ControlFrames.Truncated.class);
        records.put("TokenExpired", ControlFrames.TokenExpired.class);
        records.put("Figures", StatsFeed.Figures.class);
        records.forEach((schema, type) -> assertEquals(
                Arrays.stream(type.getRecordComponents()).map(RecordComponent::getName).collect(Collectors.toCollection(TreeSet::new)),
                spec.properties(schema), "schema " + schema + " vs " + type.getName()));

        // Request bodies: the service names its allowed fields when it rejects an unknown one.
        assertEquals(allowedFields("/api/sse/events", "{\"type\":\"x\",\"zz\":1}"), spec.properties("EventRequest"));
        assertEquals(allowedFields("/api/sse/events", "{\"type\":\"x\",\"target\":{\"zz\":[]}}"), spec.properties("Target"));
        try (Api.Opened o = Api.open("")) {
            assertEquals(allowedFields("/api/sse/connections/" + o.clientId() + "/subscriptions", "{\"zz\":[]}"),
                    spec.properties("SubscriptionChange"));
        }
        for (String body : List.of("EventRequest", "Target", "SubscriptionChange")) {
            assertFalse(spec.schema(body).path("additionalProperties").asBoolean(true), body + " refuses unknown fields");
        }
        assertEquals("^" + WireFormat.TYPE_PATTERN.pattern() + "$",
                spec.schema("EventRequest").path("properties").path("type").path("pattern").asText());
        JsonNode batch = spec.operations.get("POST /api/sse/events/batch").path("requestBody").path("content")
                .path("application/json").path("schema");
        assertEquals(Connection.MAX_BURST, batch.path("maxItems").asInt(), "the batch limit: " + batch);
    }

    private static int post(String path, String json) {
        return given().contentType(ContentType.JSON).body(json).post(path).statusCode();
    }

    private static void saw(Map<String, Set<String>> seen, Spec spec, String op, int status) {
        String s = String.valueOf(status);
        assertTrue(spec.statuses(op).contains(s), op + " answered " + s + ", documented: " + spec.statuses(op));
        seen.computeIfAbsent(op, k -> new TreeSet<>()).add(s);
    }

    private static Set<String> allowedFields(String path, String body) {
        String detail = given().contentType(ContentType.JSON).body(body).post(path).then().statusCode(400)
                .contentType("application/problem+json").extract().jsonPath().getString("detail");
        assertTrue(detail.contains("allowed: "), detail);
        return new TreeSet<>(Arrays.asList(detail.substring(detail.indexOf("allowed: ") + 9).split(", ")));
    }

    private static int rank(String op) {
        return op.endsWith("/reset") ? 3 : op.startsWith("DELETE ") ? 2 : 1;
    }

    private static void collectRefs(JsonNode node, List<String> out) {
        if (node.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> it = node.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("$ref") && e.getValue().isTextual()) {
                    out.add(e.getValue().asText());
                } else {
                    collectRefs(e.getValue(), out);
                }
            }
        } else if (node.isArray()) {
            node.forEach(n -> collectRefs(n, out));
        }
    }

    /** "METHOD /path" of every JAX-RS resource method under dev.ssehub, from the compiled classes. */
    static Set<String> resourceOperations() throws Exception {
        Path root = Path.of("target", "classes");
        if (!Files.isDirectory(root.resolve("dev/ssehub"))) {
            root = Path.of(StreamResource.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        }
        Set<String> ops = new TreeSet<>();
        List<Path> classes;
        try (Stream<Path> files = Files.walk(root.resolve("dev/ssehub"))) {
            classes = files.filter(p -> p.toString().endsWith(".class")).toList();
        }
        for (Path f : classes) {
            String name = root.relativize(f).toString().replace(File.separatorChar, '.').replaceAll("\\.class$", "");
            Class<?> c = Class.forName(name, false, OpenApiDocTest.class.getClassLoader());
            jakarta.ws.rs.Path base = c.getAnnotation(jakarta.ws.rs.Path.class);
            if (base == null) {
                continue;
            }
            for (Method m : c.getDeclaredMethods()) {
                for (Annotation a : m.getAnnotations()) {
                    HttpMethod hm = a.annotationType().getAnnotation(HttpMethod.class);
                    if (hm != null) {
                        jakarta.ws.rs.Path sub = m.getAnnotation(jakarta.ws.rs.Path.class);
                        ops.add(hm.value() + " " + join(base.value(), sub == null ? "" : sub.value()));
                    }
                }
            }
        }
        return ops;
    }

    /** Joins JAX-RS path templates; {@code {id: [0-9]+}} becomes {@code {id}}. */
    private static String join(String base, String sub) {
        String p = ("/" + base + "/" + sub).replaceAll("/+", "/").replaceAll("\\{\\s*([^:}\\s]+)\\s*(:[^}]*)?}", "{$1}");
        return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    }

    private static Set<String> minus(Set<String> a, Set<String> b) {
        Set<String> d = new TreeSet<>(a);
        d.removeAll(b);
        return d;
    }

    /** The served document, parsed: operations by "METHOD /path", responses resolved through their $ref. */
    static final class Spec {
        final JsonNode root;
        final Map<String, JsonNode> operations = new TreeMap<>();

        private Spec(JsonNode root) {
            this.root = root;
            root.path("paths").fields().forEachRemaining(path -> path.getValue().fields().forEachRemaining(m -> {
                if (HTTP_METHODS.contains(m.getKey())) {
                    operations.put(m.getKey().toUpperCase() + " " + path.getKey(), m.getValue());
                }
            }));
        }

        static Spec fetch() {
            String yaml = given().when().get("/q/openapi").then().statusCode(200).extract().asString();
            try {
                return new Spec(YAML.readTree(yaml));
            } catch (Exception e) {
                throw new AssertionError("/q/openapi is not YAML: " + e + "\n" + yaml, e);
            }
        }

        Set<String> statuses(String op) {
            Set<String> s = new TreeSet<>();
            operations.get(op).path("responses").fieldNames().forEachRemaining(s::add);
            return s;
        }

        JsonNode response(String op, String status) {
            return resolve(operations.get(op).path("responses").path(status));
        }

        JsonNode schema(String name) {
            return root.path("components").path("schemas").path(name);
        }

        Set<String> properties(String schema) {
            Set<String> p = new TreeSet<>();
            schema(schema).path("properties").fieldNames().forEachRemaining(p::add);
            return p;
        }

        JsonNode resolve(JsonNode n) {
            return n.has("$ref") ? resolve(root.at(n.path("$ref").asText().substring(1))) : n;
        }
    }
}
