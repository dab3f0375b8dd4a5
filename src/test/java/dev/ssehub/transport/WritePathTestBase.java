package dev.ssehub.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeEach;

import dev.ssehub.support.Api;
import dev.ssehub.support.SseClient;
import io.restassured.path.json.JsonPath;

/**
 * What every write-path test checks on one stream over real HTTP: the exact frames (the first frame, a
 * published event with multi-byte characters, a large one, a batch), that the stream took the expected
 * {@link WritePath} (its channel, and the {@code sse_streams{path}} gauge), that no raw write fell back,
 * and that the registry is empty once the client has gone. Subclasses open the stream their way.
 */
abstract class WritePathTestBase {

    /** The query every stream opens with; the first frame must echo it. */
    static final String QUERY = "userId=wire&sessionId=s1&topic=orders";
    static final Duration WAIT = Duration.ofSeconds(15);

    private static final Pattern FIRST_DATA = Pattern.compile("data: \\{\"clientId\":\"([0-9a-f-]{36})\","
            + "\"userId\":\"wire\",\"sessionId\":\"s1\",\"topics\":\\[\"orders\"\\],\"types\":\\[\\],"
            + "\"heartbeatIntervalMs\":1000,\"serverTime\":\"([^\"]+)\"\\}");
    private static final Pattern HEARTBEAT_DATA = Pattern.compile("data: \\{\"ts\":\\d{13}\\}");

    @Inject
    SinkTracker sinks;
    @Inject
    StreamTransport transport;

    @BeforeEach
    void noStreams() {
        Api.reset();
        Api.eventually(WAIT, "no open stream before the test", () -> Api.activeConnections() == 0 && sinks.size() == 0);
        for (WritePath p : WritePath.values()) {
            assertEquals(0.0, gauge(p), "open streams on the " + p.label() + " path before the test");
        }
    }

    /** The path plain HTTP/1.1 takes here: straight to the socket on Linux (epoll), below the encoder on NIO. */
    static WritePath plainHttp11Path() {
        return System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux") ? WritePath.SOCKET
                : WritePath.BELOW_ENCODER;
    }

    /**
     * Runs the whole check on a stream just opened with {@link #QUERY}, and closes the client. On return
     * the stream has left the registry.
     */
    void checkStream(SseClient client, WritePath expected) {
        long offLoop = transport.fallbacks(StreamTransport.Fallback.OFF_LOOP);
        long closed = transport.fallbacks(StreamTransport.Fallback.CLOSED);
        try (client) {
            String clientId = firstFrame(client);
            assertPath(clientId, expected);

            JsonPath one = Api.publish("{\"type\":\"wire.check\",\"data\":{\"text\":\"été ✓ \uD83D\uDE00\",\"n\":1}}");
            assertEquals(1, one.getInt("delivered"));
            assertEquals(List.of("id: " + one.getString("id"), "event: wire.check",
                    "data: {\"text\":\"été ✓ \uD83D\uDE00\",\"n\":1}"), nextEvent(client).lines(),
                    "an event with multi-byte UTF-8 (chunk lengths count bytes)");

            String big = "x".repeat(40_000);
            JsonPath large = Api.publish("{\"type\":\"wire.large\",\"data\":\"" + big + "\"}");
            assertEquals(List.of("id: " + large.getString("id"), "event: wire.large", "data: \"" + big + "\""),
                    nextEvent(client).lines(), "a 40 kB event");

            JsonPath batch = Api.publishBatch("[{\"type\":\"wire.b\",\"data\":1},{\"type\":\"wire.b\",\"data\":[2]},"
                    + "{\"type\":\"wire.b\",\"data\":{\"k\":3}}]");
            List<String> data = List.of("1", "[2]", "{\"k\":3}");
            for (int i = 0; i < data.size(); i++) {
                assertEquals(List.of("id: " + batch.getString("[" + i + "].id"), "event: wire.b", "data: " + data.get(i)),
                        nextEvent(client).lines(), "batch event " + i);
            }
            assertEquals(expected, sinks.channelOf(clientId).path(), "the path is chosen once and kept");
        }
        assertGone(expected);
        assertEquals(offLoop, transport.fallbacks(StreamTransport.Fallback.OFF_LOOP), "raw writes off the loop");
        assertEquals(closed, transport.fallbacks(StreamTransport.Fallback.CLOSED), "raw writes after close");
    }

    /** Checks the first frame line by line and returns the stream's client id. */
    static String firstFrame(SseClient client) {
        SseClient.Frame first = client.next(WAIT);
        assertNotNull(first, "no first frame within " + WAIT);
        return firstFrame(first.lines());
    }

    /** The first frame's lines must be exactly {@code retry}, {@code event}, {@code data}; returns the client id. */
    static String firstFrame(List<String> lines) {
        assertEquals(3, lines.size(), "first frame: " + lines);
        assertEquals("retry: 3000", lines.get(0));
        assertEquals("event: connection_established", lines.get(1));
        Matcher m = FIRST_DATA.matcher(lines.get(2));
        assertTrue(m.matches(), "first frame data: " + lines.get(2));
        Instant.parse(m.group(2));
        return m.group(1);
    }

    /** The next frame that is not a heartbeat; every heartbeat before it must be exact too. */
    static SseClient.Frame nextEvent(SseClient client) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<List<String>> heartbeats = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            SseClient.Frame f = client.next(Duration.ofMillis(200));
            if (f == null) {
                continue;
            }
            if (!isHeartbeat(f.lines())) {
                return f;
            }
            heartbeats.add(f.lines());
        }
        return fail("no event within " + WAIT + (client.ended() ? " (stream ended)" : "")
                + "; heartbeats: " + heartbeats);
    }

    static boolean isHeartbeat(List<String> lines) {
        return lines.size() == 2 && lines.get(0).equals("event: heartbeat")
                && HEARTBEAT_DATA.matcher(lines.get(1)).matches();
    }

    /** The stream's channel took {@code expected}, and the gauges count it there and nowhere else. */
    void assertPath(String clientId, WritePath expected) {
        Api.eventually(WAIT, "a write path chosen for " + clientId, () -> {
            VertxSseChannel ch = sinks.channelOf(clientId);
            return ch != null && ch.path() != null;
        });
        assertEquals(expected, sinks.channelOf(clientId).path(), "write path of the stream");
        Api.eventually(WAIT, "sse_streams{path=" + expected.label() + "} = 1", () -> gauge(expected) == 1.0);
        for (WritePath p : WritePath.values()) {
            assertEquals(p == expected ? 1.0 : 0.0, gauge(p), "sse_streams{path=" + p.label() + "}");
        }
    }

    /** After the client left: no connection in the registry or the tracker, nothing counted on the path. */
    void assertGone(WritePath path) {
        Api.eventually(WAIT, "the stream left the registry and the " + path.label() + " path",
                () -> Api.activeConnections() == 0 && sinks.size() == 0 && gauge(path) == 0.0);
    }

    static double gauge(WritePath p) {
        return Api.metric("sse_streams{path=\"" + p.label() + "\"}");
    }
}
