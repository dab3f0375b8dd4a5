package dev.ssehub.api;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.SseClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;

/**
 * The connection guard with short timeouts: an idle keep-alive connection is closed after
 * {@code quarkus.http.idle-timeout}, but a stream is not, on HTTP/1.1 (whose raw writes bypass Vert.x's idle
 * handler) nor on HTTP/2; once a stream ends its connection is an ordinary keep-alive one again; and one
 * address cannot hold more than {@code sse.http.max-pending-per-address} connections that are not streams.
 */
@QuarkusTest
@TestProfile(HttpEdgeTest.ShortTimeouts.class)
class HttpEdgeTest {

    static final Duration IDLE = Duration.ofSeconds(3);

    public static class ShortTimeouts implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.http.idle-timeout", IDLE.toSeconds() + "s", "sse.http.header-timeout", "2s",
                    "sse.http.max-pending-per-address", "20", "sse.max-batch-bytes", "100K",
                    "sse.http.body-total-bytes", "300K");
        }
    }

    @BeforeEach
    void reset() {
        Api.reset();
    }

    @Test
    void idleKeepAliveConnectionsAreClosed() throws Exception {
        try (Socket s = connect("127.0.0.1")) {
            s.getOutputStream().write("GET /q/health/live HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(StreamHeadTest.readHead(s.getInputStream()).startsWith("HTTP/1.1 200 "));
            long t0 = System.nanoTime();
            assertTrue(closedWithin(s.getInputStream(), IDLE.plusSeconds(5)), "closed after the idle timeout");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= IDLE.toMillis() - 500, "not before the idle timeout: " + ms + " ms");
        }
    }

    @Test
    void streamsOutliveTheIdleTimeoutOnHttp11AndHttp2() throws Exception {
        HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        try (SseClient h1Stream = SseClient.connect(Api.stream("topic=idle"));
                SseClient h2Stream = SseClient.connect(h2, Api.stream("topic=idle"), null)) {
            h1Stream.await("connection_established", Duration.ofSeconds(5));
            h2Stream.await("connection_established", Duration.ofSeconds(5));
            assertEquals(HttpClient.Version.HTTP_2, h2Stream.response().version());
            Thread.sleep(IDLE.multipliedBy(2).toMillis()); // twice the idle timeout, heartbeats only
            String id = Api.publish("{\"type\":\"still_here\",\"target\":{\"topics\":[\"idle\"]}}").getString("id");
            assertEquals(id, h1Stream.await("still_here", Duration.ofSeconds(5)).id());
            assertEquals(id, h2Stream.await("still_here", Duration.ofSeconds(5)).id());
            assertTrue(!h1Stream.ended() && !h2Stream.ended());
            assertEquals(1, Api.metric("sse_streams{path=\"socket\"}"), "the HTTP/1.1 stream writes to its socket");
            assertEquals(1, Api.metric("sse_streams{path=\"vertx\"}"), "the HTTP/2 stream through Vert.x");
        }
    }

    @Test
    void afterAStreamEndsItsConnectionIdlesOutLikeAnyOther() throws Exception {
        try (Socket s = connect("127.0.0.1")) {
            s.getOutputStream().write("GET /api/sse/stream?userId=ending HTTP/1.1\r\nHost: x\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            assertTrue(StreamHeadTest.readHead(in).startsWith("HTTP/1.1 200 "));
            Thread.sleep(IDLE.toMillis() + 1000); // the stream outlives the idle timeout
            String clientId = JsonPath.from(given().get("/api/sse/connections?userId=ending").asString())
                    .getString("connections[0].clientId");
            given().delete("/api/sse/connections/" + clientId).then().statusCode(204);
            long t0 = System.nanoTime();
            // The stream's last chunk arrives, then nothing: the connection idles out.
            assertTrue(closedWithin(in, IDLE.plusSeconds(5)), "closed after the idle timeout once the stream ended");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= IDLE.toMillis() - 500, "kept alive until the idle timeout: " + ms + " ms");
        }
    }

    @Test
    void oneAddressHoldsAtMostItsShareOfConnectionsWithoutAStream() throws Exception {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                Socket s = connect("127.0.0.9");
                s.getOutputStream().write("GET /q/health/live HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
                held.add(s);
            }
            Thread.sleep(300);
            try (Socket over = connect("127.0.0.9")) {
                assertTrue(closedWithin(over.getInputStream(), Duration.ofSeconds(2)), "the 21st is closed at once");
            }
            // Another address is served meanwhile.
            given().get("/q/health/live").then().statusCode(200);
            assertTrue(Api.metric("sse_http_connections_refused_total{reason=\"per_address\"}") >= 1);
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    /**
     * Over HTTP/2 a body must declare its length (it is not counted as it arrives, as a chunked HTTP/1.1 one
     * is); a POST whose head ends its stream has no body and passes, as Java's HttpClient sends an empty one.
     */
    @Test
    void http2BodiesNeedALengthButAnEmptyPostHasNone() throws Exception {
        HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        URI health = URI.create(Api.base() + "/q/health/live");
        URI events = URI.create(Api.base() + "/api/sse/events");
        // The first request upgrades the connection (h2c); the next ones are HTTP/2 frames.
        assertEquals(200, h2.send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode());

        HttpResponse<String> empty = h2.send(HttpRequest.newBuilder(events).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(HttpClient.Version.HTTP_2, empty.version());
        assertEquals(400, empty.statusCode(), "an empty body is read (and refused as empty JSON): " + empty.body());
        assertTrue(empty.body().contains("urn:ssehub:problem:invalid-request"), empty.body());

        byte[] json = "{\"type\":\"h2\"}".getBytes(StandardCharsets.UTF_8);
        HttpRequest.BodyPublisher unknownLength = HttpRequest.BodyPublishers.fromPublisher(
                HttpRequest.BodyPublishers.ofByteArray(json)); // no length: no content-length header
        HttpResponse<String> streamed = h2.send(HttpRequest.newBuilder(events).header("Content-Type", "application/json")
                .POST(unknownLength).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(HttpClient.Version.HTTP_2, streamed.version());
        assertEquals(411, streamed.statusCode(), streamed.body());
        assertTrue(streamed.body().contains("urn:ssehub:problem:length-required"), streamed.body());

        HttpResponse<String> declared = h2.send(HttpRequest.newBuilder(events).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(json)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(HttpClient.Version.HTTP_2, declared.version());
        assertEquals(202, declared.statusCode(), declared.body());
    }

    /**
     * Bodies being read hold at most {@code sse.http.body-total-bytes} (300K here) by their declared length,
     * bodies larger than one event all of it but {@code sse.max-batch-bytes} (100K): two uploads of 100K that
     * stop half-way fill that share, a third large body gets 503 with Retry-After at once (its connection
     * closed, the body unread), while a publish of one event and requests without a body are served; the
     * room comes back when an upload ends.
     */
    @Test
    void bodiesBeingReadShareOneBudget() throws Exception {
        byte[] half = ("POST /api/sse/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: 102400\r\n\r\n{\"type\":\"t\",\"data\":\"" + "a".repeat(50_000))
                .getBytes(StandardCharsets.US_ASCII);
        String event = "{\"type\":\"large\",\"data\":\"" + "b".repeat(35_000) + "\"}";
        String large = "[" + event + "," + event + "]"; // a batch over one event's 65K + 1K
        Socket first = connect("127.0.0.1");
        try (Socket second = connect("127.0.0.1")) {
            first.getOutputStream().write(half);
            second.getOutputStream().write(half);
            Api.eventually(Duration.ofSeconds(5), "both uploads hold their room",
                    () -> Api.metric("sse_http_body_bytes") == 2 * 102400);
            try (Socket third = connect("127.0.0.1")) {
                third.getOutputStream().write(("POST /api/sse/events/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                        + "\r\nContent-Length: " + large.length() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                String answer = StreamHeadTest.readHead(third.getInputStream());
                assertTrue(answer.startsWith("HTTP/1.1 503 "), answer);
                assertTrue(answer.toLowerCase().contains("retry-after: "), answer);
                assertTrue(answer.toLowerCase().contains("content-type: application/problem+json"), answer);
                assertTrue(closedWithin(third.getInputStream(), Duration.ofSeconds(2)), "its body is not read");
            }
            assertTrue(Api.metric("sse_http_connections_refused_total{reason=\"body_budget\"}") >= 1);
            Api.publish("{\"type\":\"one_event\",\"data\":\"" + "c".repeat(1000) + "\"}"); // 202: the kept room
            given().get("/q/health/live").then().statusCode(200);
            given().get("/api/sse/stats").then().statusCode(200);

            first.close(); // an upload ends: its room is free again
            Api.eventually(Duration.ofSeconds(5), "the closed upload's room is back",
                    () -> Api.metric("sse_http_body_bytes") == 102400);
            given().contentType("application/json").body(large).post("/api/sse/events/batch").then().statusCode(202);
        } finally {
            first.close();
        }
    }

    private static Socket connect(String source) throws IOException {
        URI base = URI.create(Api.base());
        Socket s = new Socket();
        s.bind(new InetSocketAddress(source, 0));
        s.connect(new InetSocketAddress(base.getHost(), base.getPort()), 2000);
        s.setSoTimeout(2000);
        return s;
    }

    /** Reads (and drops) until the server closes; false if it is still open after the timeout. */
    private static boolean closedWithin(InputStream in, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] buf = new byte[4096];
        while (System.nanoTime() < deadline) {
            try {
                if (in.read(buf) < 0) {
                    return true;
                }
            } catch (SocketTimeoutException again) {
                // keep waiting
            } catch (IOException reset) {
                return true;
            }
        }
        return false;
    }
}
