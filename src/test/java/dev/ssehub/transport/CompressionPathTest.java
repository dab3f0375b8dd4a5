package dev.ssehub.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.LogCapture;
import dev.ssehub.support.SseClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * HTTP compression on ({@code quarkus.http.enable-compression}, a build-time key: the profile re-augments
 * the application), with {@code text/event-stream} among the compressed media types (Quarkus's default
 * list leaves it out, and then streams are not compressed at all, though they still lose the raw paths).
 * Netty's compressor sits in every connection's pipeline, so every stream writes through Vert.x: a client
 * that asks for gzip gets each event as its own flushed deflate block, one that does not gets plain frames.
 */
@QuarkusTest
@TestProfile(CompressionPathTest.Compression.class)
class CompressionPathTest extends WritePathTestBase {

    public static class Compression implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.http.enable-compression", "true",
                    "quarkus.http.compress-media-types", "text/event-stream");
        }
    }

    private static LogCapture transportLog;

    @BeforeAll
    static void captureTransportLog() {
        transportLog = LogCapture.of(StreamTransport.class.getName());
    }

    @AfterAll
    static void stopCapture() {
        transportLog.close();
    }

    @Test
    void gzipClientDecodesEveryFrameAsItArrives() {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        SseClient client = SseClient.connectGzip(http, Api.stream(QUERY));
        assertEquals("gzip", client.response().headers().firstValue("content-encoding").orElse(null),
                "compression is on for text/event-stream");
        checkStream(client, WritePath.VERTX);
        assertVertxBecauseOfCompression();
    }

    @Test
    void clientWithoutAcceptEncodingGetsPlainFrames() {
        SseClient client = SseClient.connect(Api.stream(QUERY));
        assertTrue(client.response().headers().firstValue("content-encoding").isEmpty(),
                "no content coding unasked: " + client.response().headers().map());
        checkStream(client, WritePath.VERTX);
        assertVertxBecauseOfCompression();
    }

    /** The first stream on the Vert.x path (in this application: this class's first) said why. */
    private static void assertVertxBecauseOfCompression() {
        Api.eventually(WAIT, "the transport logs why streams take the Vert.x path; logged: " + transportLog.entries(),
                () -> transportLog.entries().stream().anyMatch(e -> e.message().startsWith(
                        "Streams write by the vertx path (first such stream: HTTP compression is on")));
    }
}
