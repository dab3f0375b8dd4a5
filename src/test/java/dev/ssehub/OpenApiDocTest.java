package dev.ssehub;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import jakarta.ws.rs.HttpMethod;

import org.junit.jupiter.api.Test;

import dev.ssehub.api.ConnectionsResource;
import dev.ssehub.api.EventsResource;
import dev.ssehub.api.Problems;
import dev.ssehub.api.StatsResource;
import dev.ssehub.api.StreamResource;
import dev.ssehub.hub.Connection;
import dev.ssehub.hub.ControlFrames;
import dev.ssehub.hub.WireFormat;
import dev.ssehub.support.Api;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;

/**
 * The OpenAPI description served at {@code /openapi.yaml} against the code and the running service:
 * the documented operations are exactly the JAX-RS resource methods, each one answers, and the
 * schemas name the fields of the Java records and of the request validation. SnakeYAML is not on the
 * test classpath, so the YAML is read line by line (the file keeps a regular two-space layout).
 */
@QuarkusTest
class OpenApiDocTest {

    private static final Set<String> HTTP_METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options",
            "trace");

    /** Bodies that the operations accept; an operation with a request body and no entry here gets {@code {}}. */
    private static final Map<String, String> SAMPLE_BODIES = Map.of(
            "POST /api/sse/events", "{\"type\":\"openapi_check\",\"data\":{\"n\":1},\"target\":{\"topics\":[\"openapi-doc\"]}}",
            "POST /api/sse/events/batch", "[{\"type\":\"openapi_check\"},{\"type\":\"openapi_check\",\"data\":2}]",
            "POST /api/sse/connections/{clientId}/subscriptions", "{\"add\":[\"openapi-doc-2\"],\"remove\":[\"openapi-doc\"]}");

    @Test
    void documentsExactlyTheResourceMethodsOfTheCode() throws Exception {
        Spec spec = Spec.fetch();
        assertTrue(spec.text.startsWith("openapi: 3.0.3\n"), "an OpenAPI 3.0.3 document");
        Set<String> code = resourceOperations();
        assertTrue(code.contains("GET /api/sse/stream") && code.size() >= 9, "resource scan found " + code);
        Set<String> documented = spec.responses.keySet();
        assertEquals(new TreeSet<>(code), new TreeSet<>(documented),
                "undocumented: " + minus(code, documented) + "; documented but not in the code: " + minus(documented, code));
        spec.responses.forEach((op, codes) -> assertTrue(!codes.isEmpty(), op + " documents no response"));
    }

    @Test
    void everyDocumentedOperationAnswersOnTheRunningService() throws Exception {
        Api.reset();
        Spec spec = Spec.fetch();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest open = HttpRequest.newBuilder(URI.create(Api.stream("topic=openapi-doc")))
                .header("Accept", "text/event-stream").timeout(Duration.ofSeconds(5)).GET().build();
        HttpResponse<InputStream> stream = http.send(open, HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = stream.body()) {
            assertDocumented(spec, "GET /api/sse/stream", stream.statusCode());
            assertEquals(200, stream.statusCode());
            assertTrue(stream.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
            assertEquals("no-cache", stream.headers().firstValue("Cache-Control").orElse(null));
            assertEquals("no", stream.headers().firstValue("X-Accel-Buffering").orElse(null));
            assertTrue(spec.blocks.get("GET /api/sse/stream").contains("text/event-stream:"),
                    "the stream documents its text/event-stream response");
            String clientId = CompletableFuture.supplyAsync(() -> firstFrameClientId(body)).get(5, TimeUnit.SECONDS);
            assertNotNull(clientId, "clientId in connection_established");

            // Everything else; closing the stream and the reset go last, as they end the stream.
            List<String> ops = spec.responses.keySet().stream().filter(op -> !op.equals("GET /api/sse/stream"))
                    .sorted(Comparator.comparingInt(OpenApiDocTest::rank)).toList();
            for (String op : ops) {
                String method = op.substring(0, op.indexOf(' '));
                String path = op.substring(op.indexOf(' ') + 1).replace("{clientId}", clientId);
                String sample = SAMPLE_BODIES.get(op);
                if (sample == null && spec.blocks.get(op).contains("requestBody:")) {
                    sample = "{}";
                }
                Response r = sample == null ? given().request(method, path)
                        : given().contentType(ContentType.JSON).body(sample).request(method, path);
                int status = r.statusCode();
                assertTrue(status != 404 && status != 405, op + " answered " + status + ": " + r.asString());
                assertDocumented(spec, op, status);
            }
        }
    }

    @Test
    void schemasMatchTheJavaRecordsAndTheRequestValidation() {
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
        records.forEach((schema, type) -> assertEquals(
                Arrays.stream(type.getRecordComponents()).map(RecordComponent::getName).collect(Collectors.toCollection(TreeSet::new)),
                spec.properties.get(schema), "schema " + schema + " vs " + type.getName()));

        // Request bodies: the service names its allowed fields when it rejects an unknown one.
        assertEquals(allowedFields("/api/sse/events", "{\"type\":\"x\",\"zz\":1}"), spec.properties.get("EventRequest"));
        assertEquals(allowedFields("/api/sse/events", "{\"type\":\"x\",\"target\":{\"zz\":[]}}"), spec.properties.get("Target"));
        try (Api.Opened o = Api.open("")) {
            assertEquals(allowedFields("/api/sse/connections/" + o.clientId() + "/subscriptions", "{\"zz\":[]}"),
                    spec.properties.get("SubscriptionChange"));
        }

        assertEquals("^" + WireFormat.TYPE_PATTERN.pattern() + "$", spec.attributes.get("EventType").get("pattern"));
        assertTrue(spec.blocks.get("POST /api/sse/events/batch").contains("maxItems: " + Connection.MAX_BURST),
                "the batch limit is " + Connection.MAX_BURST);
    }

    private static Set<String> allowedFields(String path, String body) {
        String detail = given().contentType(ContentType.JSON).body(body).post(path).then().statusCode(400)
                .contentType("application/problem+json").extract().jsonPath().getString("detail");
        assertTrue(detail.contains("allowed: "), detail);
        return new TreeSet<>(Arrays.asList(detail.substring(detail.indexOf("allowed: ") + 9).split(", ")));
    }

    private static void assertDocumented(Spec spec, String op, int status) {
        assertTrue(spec.responses.get(op).contains(String.valueOf(status)),
                op + " answered " + status + ", documented: " + spec.responses.get(op));
    }

    private static int rank(String op) {
        return op.endsWith("/reset") ? 3 : op.startsWith("DELETE ") ? 2 : 1;
    }

    /** Reads the stream's first frame and returns the clientId of connection_established. */
    private static String firstFrameClientId(InputStream body) {
        try {
            BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
            List<String> frame = new ArrayList<>();
            for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
                frame.add(line);
            }
            assertTrue(frame.size() == 3 && frame.get(0).startsWith("retry: ")
                    && frame.get(1).equals("event: connection_established") && frame.get(2).startsWith("data: "),
                    "first frame: " + frame);
            return JsonPath.from(frame.get(2).substring(6)).getString("clientId");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** "METHOD /path" of every JAX-RS resource method under dev.ssehub, from the compiled classes. */
    private static Set<String> resourceOperations() throws Exception {
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

    /**
     * What the tests need from the YAML: per operation ("POST /api/sse/events") its response codes and
     * its raw lines; per component schema its property names and its own scalar attributes.
     */
    static final class Spec {
        final String text;
        final Map<String, Set<String>> responses = new TreeMap<>();
        final Map<String, String> blocks = new TreeMap<>();
        final Map<String, Set<String>> properties = new TreeMap<>();
        final Map<String, Map<String, String>> attributes = new TreeMap<>();

        private Spec(String text) {
            this.text = text;
        }

        static Spec fetch() {
            String yaml = given().when().get("/openapi.yaml").then().statusCode(200).extract().asString();
            return parse(yaml);
        }

        static Spec parse(String yaml) {
            Spec s = new Spec(yaml.replace("\r\n", "\n"));
            Map<String, StringBuilder> blocks = new TreeMap<>();
            String section = null;
            String path = null;
            String op = null;
            String schema = null;
            boolean inSchemas = false;
            boolean inResponses = false;
            boolean inProperties = false;
            int blockScalar = -1; // indent of the key whose block scalar (| or >) is being skipped
            for (String line : s.text.split("\n")) {
                if (line.isBlank() || line.trim().startsWith("#")) {
                    continue;
                }
                int indent = line.length() - line.stripLeading().length();
                String text = line.trim();
                if (op != null && indent > 4) {
                    blocks.get(op).append(text).append('\n');
                }
                if (blockScalar >= 0) {
                    if (indent > blockScalar) {
                        continue;
                    }
                    blockScalar = -1;
                }
                int colon = text.indexOf(": ");
                String key = text.endsWith(":") ? unquote(text.substring(0, text.length() - 1))
                        : colon > 0 ? unquote(text.substring(0, colon)) : null;
                String value = text.endsWith(":") ? "" : colon > 0 ? text.substring(colon + 2).trim() : null;
                if (value != null && value.matches("[|>][-+]?")) {
                    blockScalar = indent;
                }
                if (indent == 0) {
                    section = key;
                    path = op = schema = null;
                    inSchemas = inResponses = inProperties = false;
                } else if ("paths".equals(section)) {
                    if (indent == 2 && key != null && key.startsWith("/")) {
                        path = key;
                        op = null;
                    } else if (indent == 4) {
                        op = path != null && key != null && HTTP_METHODS.contains(key) ? key.toUpperCase() + " " + path : null;
                        if (op != null) {
                            s.responses.put(op, new TreeSet<>());
                            blocks.put(op, new StringBuilder());
                        }
                        inResponses = false;
                    } else if (indent == 6 && op != null) {
                        inResponses = "responses".equals(key);
                    } else if (indent == 8 && inResponses && key != null && value.isEmpty()) {
                        s.responses.get(op).add(key);
                    }
                } else if ("components".equals(section)) {
                    if (indent == 2) {
                        inSchemas = "schemas".equals(key);
                        schema = null;
                    } else if (indent == 4 && inSchemas && key != null) {
                        schema = key;
                        s.properties.put(schema, new TreeSet<>());
                        s.attributes.put(schema, new TreeMap<>());
                        inProperties = false;
                    } else if (indent == 6 && schema != null && key != null) {
                        inProperties = "properties".equals(key);
                        if (!value.isEmpty()) {
                            s.attributes.get(schema).put(key, unquote(value));
                        }
                    } else if (indent == 8 && inProperties && key != null) {
                        s.properties.get(schema).add(key);
                    }
                }
            }
            blocks.forEach((k, v) -> s.blocks.put(k, v.toString()));
            return s;
        }

        private static String unquote(String v) {
            if (v.length() >= 2 && (v.startsWith("'") && v.endsWith("'") || v.startsWith("\"") && v.endsWith("\""))) {
                return v.substring(1, v.length() - 1);
            }
            return v;
        }
    }
}
