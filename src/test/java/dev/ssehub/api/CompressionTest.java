package dev.ssehub.api;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.SseClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * A service built with HTTP compression ({@code quarkus.http.enable-compression}, a build-time property: the
 * test profile re-augments the application with it, which the test checks) streams correctly: frames arrive
 * at once and intact, gzip-compressed for a client that accepts gzip (text/event-stream is added to the
 * compressed media types here, the strictest case: the compressor must flush every frame), plain for one
 * that does not. Every stream then takes the {@code vertx} write path.
 */
@QuarkusTest
@TestProfile(CompressionTest.Compressed.class)
class CompressionTest {

    public static class Compressed implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.http.enable-compression", "true",
                    "quarkus.http.compress-media-types", "text/event-stream,application/json");
        }
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void reset() {
        Api.reset();
    }

    @Test
    void theBuildHasCompression() {
        // JSON answers are gzip-compressed: the build-time property took effect.
        given().header("Accept-Encoding", "gzip").get("/api/sse/stats").then().statusCode(200)
                .header("Content-Encoding", "gzip");
    }

    @Test
    void framesArriveAtOnceWithAndWithoutGzip() throws Exception {
        HttpResponse<InputStream> gz = HTTP.send(HttpRequest.newBuilder(URI.create(Api.stream("topic=z")))
                .header("Accept", "text/event-stream").header("Accept-Encoding", "gzip").build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, gz.statusCode());
        assertEquals("gzip", gz.headers().firstValue("Content-Encoding").orElse(null), "a compressed stream");
        Lines gzipped = new Lines(new GZIPInputStream(gz.body(), 64));
        try (SseClient plain = SseClient.connect(Api.stream("topic=z"))) {
            assertEquals("identity", plain.response().headers().firstValue("Content-Encoding").orElse("identity"));
            plain.await("connection_established", Duration.ofSeconds(5));
            assertTrue(gzipped.until("event: connection_established", Duration.ofSeconds(5)),
                    "first frame decompressed at once");
            assertEquals(2, Api.metric("sse_streams{path=\"vertx\"}"), "compression: both on the vertx path");

            for (int i = 0; i < 5; i++) {
                String data = "{\"i\":" + i + ",\"text\":\"" + "é".repeat(200) + "\"}";
                String id = Api.publish("{\"type\":\"zipped\",\"data\":" + data + ",\"target\":{\"topics\":[\"z\"]}}")
                        .getString("id");
                // Each frame arrives on its own, before the next is published: nothing waits in a compressor.
                SseClient.Frame f = plain.await("zipped", Duration.ofSeconds(2));
                assertEquals(id, f.id());
                assertEquals(data, f.data());
                assertTrue(gzipped.until("id: " + id, Duration.ofSeconds(2)), "gzip frame " + i + " at once");
                assertTrue(gzipped.until("event: zipped", Duration.ofSeconds(2)));
                assertTrue(gzipped.until("data: " + data, Duration.ofSeconds(2)), "intact");
            }
        } finally {
            gzipped.close();
        }
    }

    /** Lines of a decompressed stream, read by a thread of its own. */
    private static final class Lines implements AutoCloseable {
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final InputStream in;

        Lines(InputStream in) {
            this.in = in;
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 64)) {
                    for (String l; (l = r.readLine()) != null;) {
                        lines.add(l);
                    }
                } catch (Exception e) {
                    // closed
                }
            }, "gzip-lines");
            t.setDaemon(true);
            t.start();
        }

        /** Skips lines until this one; false if it does not come within the timeout. */
        boolean until(String line, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            List<String> seen = new ArrayList<>();
            while (System.nanoTime() < deadline) {
                String l = lines.poll(20, TimeUnit.MILLISECONDS);
                if (l != null) {
                    if (l.equals(line)) {
                        return true;
                    }
                    seen.add(l);
                }
            }
            assertNotNull(null, "no line '" + line + "' within " + timeout + "; got " + seen);
            return false;
        }

        @Override
        public void close() throws Exception {
            in.close();
        }
    }
}
