package dev.ssehub.transport;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;

import org.junit.jupiter.api.Test;

import dev.ssehub.hub.DeliveryError;
import dev.ssehub.hub.Frame;
import dev.ssehub.support.Api;
import dev.ssehub.support.LogCapture;
import dev.ssehub.support.RawHttp;
import dev.ssehub.support.SseClient;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpObjectEncoder;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;

/**
 * The two guards of the raw write paths ({@link VertxSseChannel}'s invariants 1 and 4), exercised on a
 * real plain HTTP/1.1 stream that writes raw: a write off the stream's event loop, and a write after the
 * stream or its connection closed, must both leave through the Vert.x response, which delivers the first
 * intact and refuses the second, so that no raw byte reaches the socket.
 */
@QuarkusTest
class RawWriteGuardTest extends WritePathTestBase {

    @Test
    void writeOffTheLoopGoesThroughVertxOnce() throws Exception {
        try (SseClient client = SseClient.connect(Api.stream(QUERY))) {
            String id = firstFrame(client);
            assertPath(id, plainHttp11Path());
            VertxSseChannel channel = sinks.channelOf(id);
            long offLoop = transport.fallbacks(StreamTransport.Fallback.OFF_LOOP);
            double offLoopMetric = fallbackMetric(StreamTransport.Fallback.OFF_LOOP);

            Write w = new Write();
            boolean writtenAtOnce = channel.write(List.of(frame("event: probe\ndata: \"off the loop\"\n\n")), w::done);

            assertFalse(writtenAtOnce, "a Vert.x write completes later, through done");
            assertNull(w.failure(), "the write through Vert.x succeeds");
            assertEquals(offLoop + 1, transport.fallbacks(StreamTransport.Fallback.OFF_LOOP));
            assertEquals(offLoopMetric + 1, fallbackMetric(StreamTransport.Fallback.OFF_LOOP));
            assertEquals(List.of("event: probe", "data: \"off the loop\""), nextEvent(client).lines());
            // Once: the next event after it is the one published next, not a second copy.
            JsonPath after = Api.publish("{\"type\":\"after\"}");
            assertEquals(List.of("id: " + after.getString("id"), "event: after", "data: null"),
                    nextEvent(client).lines());
            assertEquals(1, w.calls.get(), "done is called exactly once");
            assertEquals(plainHttp11Path(), channel.path(), "the stream keeps its raw path");
        }
        assertGone(plainHttp11Path());
    }

    @Test
    void writeAfterTheResponseEndedDoesNotReachTheKeptAliveConnection() throws Exception {
        try (RawHttp http = RawHttp.connect()) {
            ChunkedFrames body = new ChunkedFrames(http);
            String id = openStream(http, body);
            VertxSseChannel channel = sinks.channelOf(id);

            // Raw chunks reach this client well-formed (RawHttp checks every chunk's framing).
            JsonPath event = Api.publish("{\"type\":\"raw.check\",\"data\":{\"s\":\"ü\"}}");
            assertEquals(List.of("id: " + event.getString("id"), "event: raw.check", "data: {\"s\":\"ü\"}"),
                    body.nextEvent());

            // The server ends the response: its last chunk; the connection stays open for the next request.
            given().delete("/api/sse/connections/" + id).then().statusCode(204);
            body.skipToLastChunk();
            long closed = transport.fallbacks(StreamTransport.Fallback.CLOSED);

            Write w = writeOnTheLoop(channel, "event: stray\ndata: \"after the end\"\n\n");

            assertRefused(w, channel, closed, DeliveryError.STREAM_CLOSED);

            // Nothing stray between the stream's last chunk and the next response on this connection.
            http.send("GET /q/health/live HTTP/1.1");
            assertEquals("HTTP/1.1 200", new String(http.readBytes(12), StandardCharsets.US_ASCII));
        }
        assertGone(plainHttp11Path());
    }

    @Test
    void writeAfterTheClientVanishedFailsThroughDone() throws Exception {
        VertxSseChannel channel;
        try (RawHttp http = RawHttp.connect()) {
            channel = sinks.channelOf(openStream(http, new ChunkedFrames(http)));
            http.reset();
        }
        assertGone(plainHttp11Path());
        long closed = transport.fallbacks(StreamTransport.Fallback.CLOSED);

        Write w = writeOnTheLoop(channel, "event: stray\ndata: \"to nobody\"\n\n");

        assertRefused(w, channel, closed, DeliveryError.CLIENT_GONE);
    }

    /**
     * The window the registry cannot see: the loop has closed the socket (a reset read in its I/O phase)
     * but the close handlers run in a later task, and a write queued before runs first. Vert.x does not
     * know yet and writes into the closed pipeline, where the write fails at once, inside Netty's HTTP
     * encoder. What the hub does with that failure (close the stream, which ends the response) must not
     * run in there: the encoder is not re-entrant (it would hand the failed write's released buffers to
     * the socket again).
     */
    @Test
    void writeFailingInsideNettyCompletesOutsideIt() throws Exception {
        try (SseClient client = SseClient.connect(Api.stream(QUERY)); LogCapture netty = LogCapture.of("io.netty")) {
            String id = firstFrame(client);
            assertPath(id, plainHttp11Path());
            VertxSseChannel channel = sinks.channelOf(id);
            Channel socket = nettyChannel(channel);
            long closed = transport.fallbacks(StreamTransport.Fallback.CLOSED);
            Write w = new Write();
            CompletableFuture<Boolean> insideEncoder = new CompletableFuture<>();
            CompletableFuture<Boolean> returned = new CompletableFuture<>();
            Frame stray = frame("event: stray\ndata: \"closed socket\"\n\n");
            channel.execute(() -> {
                socket.close(); // its close handlers run in a later task
                returned.complete(channel.write(List.of(stray), failure -> {
                    insideEncoder.complete(insideHttpEncoder());
                    w.done(failure);
                    channel.close(); // what the hub does with a failed write
                }));
            });
            assertFalse(returned.get(WAIT.toSeconds(), TimeUnit.SECONDS));
            assertRefused(w, channel, closed, DeliveryError.CLIENT_GONE);
            assertFalse(insideEncoder.get(), "done ran inside Netty's HTTP encoder");
            assertGone(plainHttp11Path());
            assertEquals(List.of(), netty.entries().stream()
                    .filter(e -> e.level().intValue() >= Level.WARNING.intValue()).toList(), "Netty's warnings");
        }
    }

    /** Whether Netty's HTTP encoder is on the calling thread's stack. */
    private static boolean insideHttpEncoder() {
        return StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).walk(
                frames -> frames.anyMatch(f -> HttpObjectEncoder.class.isAssignableFrom(f.getDeclaringClass())));
    }

    /** The stream's socket (test-only access to a private field: the channel does not expose Netty). */
    private static Channel nettyChannel(VertxSseChannel channel) throws ReflectiveOperationException {
        Field encoder = VertxSseChannel.class.getDeclaredField("encoder");
        encoder.setAccessible(true);
        return ((ChannelHandlerContext) encoder.get(channel)).channel();
    }

    /** Opens a plain HTTP/1.1 stream on the connection, checks its head, first frame and path; returns its client id. */
    private String openStream(RawHttp http, ChunkedFrames body) {
        http.send("GET /api/sse/stream?" + QUERY + " HTTP/1.1", "Accept: text/event-stream");
        RawHttp.Head head = http.readHead();
        assertEquals("HTTP/1.1 200 OK", head.statusLine());
        assertEquals("chunked", head.header("transfer-encoding"));
        String id = firstFrame(body.next());
        assertPath(id, plainHttp11Path());
        return id;
    }

    /** The write was refused: through done, once, as {@code kind}, counted as a raw write after close. */
    private void assertRefused(Write w, VertxSseChannel channel, long closedBefore, DeliveryError kind)
            throws Exception {
        Throwable failure = w.failure();
        assertNotNull(failure, "a write after close fails through done");
        assertEquals(kind, channel.classify(failure), failure.toString());
        assertEquals(closedBefore + 1, transport.fallbacks(StreamTransport.Fallback.CLOSED));
        assertEquals(1, w.calls.get(), "done is called exactly once");
    }

    /** Runs one write on the stream's loop, as the hub does; the write must not throw. */
    private static Write writeOnTheLoop(VertxSseChannel channel, String frame) throws Exception {
        Write w = new Write();
        CompletableFuture<Boolean> returned = new CompletableFuture<>();
        channel.execute(() -> {
            try {
                returned.complete(channel.write(List.of(frame(frame)), w::done));
            } catch (Throwable t) {
                returned.completeExceptionally(t);
            }
        });
        assertFalse(returned.get(WAIT.toSeconds(), TimeUnit.SECONDS), "a refused write completes through done");
        return w;
    }

    private static Frame frame(String text) {
        return new Frame(text.getBytes(StandardCharsets.UTF_8));
    }

    private static double fallbackMetric(StreamTransport.Fallback reason) {
        return Api.metric("sse_raw_write_fallbacks_total{reason=\"" + reason.label() + "\"}");
    }

    /** A write's completion: what {@code done} got, and how often it was called. */
    private static final class Write {
        final AtomicInteger calls = new AtomicInteger();
        final CompletableFuture<Throwable> result = new CompletableFuture<>();

        void done(Throwable failure) {
            calls.incrementAndGet();
            result.complete(failure);
        }

        Throwable failure() throws Exception {
            return result.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    /** SSE frames from the chunks of a response read on the test thread, so the connection can be reused after it. */
    private static final class ChunkedFrames {
        private final RawHttp http;
        private final StringBuilder text = new StringBuilder();
        private boolean ended;

        ChunkedFrames(RawHttp http) {
            this.http = http;
        }

        /** The lines of the next frame. */
        List<String> next() {
            int end;
            while ((end = text.indexOf("\n\n")) < 0) {
                assertFalse(ended, "the response ended inside a frame: " + text);
                readChunk();
            }
            List<String> lines = new ArrayList<>(Arrays.asList(text.substring(0, end).split("\n", -1)));
            text.delete(0, end + 2);
            return lines;
        }

        /** The lines of the next frame that is not a heartbeat. */
        List<String> nextEvent() {
            List<String> f = next();
            while (isHeartbeat(f)) {
                f = next();
            }
            return f;
        }

        /** Reads up to the last chunk; whatever comes before it must be whole heartbeat frames. */
        void skipToLastChunk() {
            while (!ended) {
                readChunk();
            }
            while (text.length() > 0) {
                List<String> f = next();
                assertTrue(isHeartbeat(f), "before the end only heartbeats: " + f);
            }
        }

        private void readChunk() {
            byte[] chunk = http.readChunk();
            if (chunk == null) {
                ended = true;
            } else {
                text.append(new String(chunk, StandardCharsets.UTF_8));
            }
        }
    }
}
