package dev.ssehub.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.ssehub.support.Api;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;

/**
 * Published data is never changed on its way: what a publisher writes reaches the stream as written (only
 * whitespace between tokens goes), and what a receiver would read otherwise than it was written is refused
 * with 400. Bodies are sent as raw bytes over real HTTP, so nothing in between re-encodes them.
 */
@QuarkusTest
class PublishedDataTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void reset() {
        Api.reset();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "exponent form|1E2|1E2",
            "negative zero|-0|-0",
            "trailing zero|1.0|1.0",
            "25 significant digits|0.1234567890123456789012345|0.1234567890123456789012345",
            "30-digit integer|123456789012345678901234567890|123456789012345678901234567890",
            "largest double|1.7976931348623157e308|1.7976931348623157e308",
            "smallest subnormal|4.9e-324|4.9e-324",
            "escapes as written|`\"\\u00e9\\/\\ud83d\\ude00\"`|`\"\\u00e9\\/\\ud83d\\ude00\"`",
            "non-ASCII as UTF-8|`\"é😀\"`|`\"é😀\"`",
    })
    void dataArrivesAsPublished(String name, String data, String onWire) throws Exception {
        try (Api.Opened o = Api.open("")) {
            HttpResponse<String> r = post("/api/sse/events", "application/json",
                    "{\"type\":\"exact\",\"data\":" + data + "}");
            assertEquals(202, r.statusCode(), r.body());
            assertEquals("data: " + onWire, o.client().await("exact", Duration.ofSeconds(5)).lines().get(2));
        }
    }

    @Test
    void whitespaceBetweenTokensGoesAndNothingElse() throws Exception {
        try (Api.Opened o = Api.open("")) {
            HttpResponse<String> r = post("/api/sse/events", "application/json",
                    "{\n  \"type\": \"pretty\",\n  \"data\": { \"a\" :\t[ 1 , 2 ] ,\r\n \"b\" : \"x  y\\n\" }\n}\n");
            assertEquals(202, r.statusCode(), r.body());
            assertEquals("data: {\"a\":[1,2],\"b\":\"x  y\\n\"}",
                    o.client().await("pretty", Duration.ofSeconds(5)).lines().get(2));
        }
    }

    @Test
    void integerBeyondADoubleIsRefused() throws Exception {
        HttpResponse<String> r = post("/api/sse/events", "application/json",
                "{\"type\":\"t\",\"data\":1" + "0".repeat(400) + "}");
        assertProblem(r, 400, "outside the range of a double");
    }

    @Test
    void batchDataArrivesAsPublished() throws Exception {
        try (Api.Opened o = Api.open("")) {
            HttpResponse<String> r = post("/api/sse/events/batch", "application/json",
                    "[ {\"data\" : 1E2 , \"type\":\"b\"} , {\"type\":\"b\"},{\"type\":\"b\",\"data\":{\"n\":-0.0}} ]");
            assertEquals(202, r.statusCode(), r.body());
            assertEquals("data: 1E2", o.client().await("b", Duration.ofSeconds(5)).lines().get(2));
            assertEquals("data: null", o.client().await("b", Duration.ofSeconds(5)).lines().get(2));
            assertEquals("data: {\"n\":-0.0}", o.client().await("b", Duration.ofSeconds(5)).lines().get(2));
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "overflow|{\"type\":\"t\",\"data\":1e400}|outside the range of a double",
            "negative overflow|{\"type\":\"t\",\"data\":{\"x\":[-1e400]}}|data.x[0]",
            "underflow|{\"type\":\"t\",\"data\":1e-400}|read it as 0",
            "lone high surrogate|{\"type\":\"t\",\"data\":\"\\ud800x\"}|unpaired surrogate \\ud800",
            "lone low surrogate in a key|{\"type\":\"t\",\"data\":{\"\\udc00\":1}}|unpaired surrogate \\udc00",
            "second value|{\"type\":\"t\",\"data\":1} {\"type\":\"u\"}|content after the JSON value",
            "trailing garbage|{\"type\":\"t\",\"data\":1}xyz|Malformed JSON",
            "duplicate key in data|{\"type\":\"t\",\"data\":{\"a\":1,\"a\":2}}|Duplicate",
            "duplicate top-level key|{\"type\":\"t\",\"type\":\"u\"}|Duplicate",
            "NaN|{\"type\":\"t\",\"data\":NaN}|Malformed JSON",
    })
    void whatAReceiverWouldReadOtherwiseIsRefused(String name, String body, String detail) throws Exception {
        try (Api.Opened o = Api.open("")) {
            HttpResponse<String> r = post("/api/sse/events", "application/json", body);
            assertProblem(r, 400, detail);
            assertEquals(0, o.client().drainEvents(Duration.ofMillis(200)).size(), "nothing published");
        }
    }

    @Test
    void invalidUtf8IsRefusedNotReplaced() throws Exception {
        byte[] body = "{\"type\":\"t\",\"data\":\"a?b\"}".getBytes(StandardCharsets.US_ASCII);
        body[body.length - 4] = (byte) 0xff;
        HttpResponse<String> r = post("/api/sse/events", "application/json", body);
        assertProblem(r, 400, "not valid UTF-8 (at byte " + (body.length - 4) + ")");
        // CESU-8: a surrogate encoded on its own is not UTF-8 either.
        byte[] cesu = { '{', '"', 't', 'y', 'p', 'e', '"', ':', '"', (byte) 0xed, (byte) 0xa0, (byte) 0x80, '"', '}' };
        r = post("/api/sse/events", "application/json", cesu);
        assertProblem(r, 400, "not valid UTF-8");
    }

    @Test
    void badEntryInABatchPublishesNothing() throws Exception {
        try (Api.Opened o = Api.open("")) {
            HttpResponse<String> r = post("/api/sse/events/batch", "application/json",
                    "[{\"type\":\"ok\"},{\"type\":\"ok\",\"data\":{\"a\":1e999}}]");
            assertProblem(r, 400, "[1].data.a");
            assertEquals(0, o.client().drainEvents(Duration.ofMillis(200)).size());
        }
    }

    @Test
    void subscriptionBodiesAreStrictToo() throws Exception {
        try (Api.Opened o = Api.open("")) {
            HttpResponse<String> r = post("/api/sse/connections/" + o.clientId() + "/subscriptions", "application/json",
                    "{\"add\":[\"a\"],\"add\":[\"b\"]}");
            assertProblem(r, 400, "Duplicate");
        }
    }

    @Test
    void jsonEndpointsWantAJsonContentType() throws Exception {
        try (Api.Opened o = Api.open("")) {
            for (String path : new String[] { "/api/sse/events", "/api/sse/events/batch",
                    "/api/sse/connections/" + o.clientId() + "/subscriptions" }) {
                String body = path.endsWith("batch") ? "[]" : path.endsWith("events") ? "{\"type\":\"t\"}" : "{}";
                assertProblem(post(path, null, body), 415, "Content-Type: application/json is required");
                assertProblem(post(path, "application/json; charset=ISO-8859-1", body), 415, "read as UTF-8");
                int ok = path.endsWith("subscriptions") ? 200 : 202;
                assertEquals(ok, post(path, "application/json; charset=utf-8", body).statusCode());
                assertEquals(ok, post(path, "application/json;charset=\"UTF-8\"", body).statusCode());
            }
        }
    }

    private static HttpResponse<String> post(String path, String contentType, String body) throws Exception {
        return post(path, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    private static HttpResponse<String> post(String path, String contentType, byte[] body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(Api.base() + path))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static void assertProblem(HttpResponse<String> r, int status, String detail) {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"),
                r.headers().map().toString());
        JsonPath p = JsonPath.from(r.body());
        assertEquals(status, p.getInt("status"));
        assertTrue(p.getString("type").startsWith("urn:ssehub:problem:"), r.body());
        assertTrue(p.getString("detail").contains(detail), "detail mentions '" + detail + "': " + r.body());
    }
}
