package dev.ssehub.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.SseClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * Publishers on other threads that never pause cannot keep an event loop from its sockets: with 2,000
 * streams taking every event and four threads publishing without pause for 10 s, a new stream gets its
 * first frame, and idle streams on every loop get their heartbeats, within one heartbeat interval.
 */
@QuarkusTest
@TestProfile(LoopResponsivenessTest.Loaded.class)
class LoopResponsivenessTest {

    static final Duration INTERVAL = Duration.ofSeconds(2);
    static final int STREAMS = 2000;
    static final int PUBLISHERS = 4;
    /** Idle streams: more than there are event loops, so every loop holds some (connections are spread round robin). */
    static final int IDLE = 12;
    static final Duration LOAD = Duration.ofSeconds(10);

    public static class Loaded implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // drop-oldest: streams that fall behind the flood stay open, so the load stays at 2,000 streams
            // (and each would log its first drop: not what this test is about).
            // Its 2,000 readers connect from one address faster than the loops answer them: allow that many
            // connections that are not streams yet from one address (sse.http.max-pending-per-address).
            return Map.of("sse.max-clients", "3000", "sse.heartbeat.interval", INTERVAL.toSeconds() + "s",
                    "sse.slow-consumer", "drop-oldest", "quarkus.log.category.\"dev.ssehub.hub.Hub\".level", "ERROR",
                    "sse.http.max-pending-per-address", "4096");
        }
    }

    @BeforeEach
    void reset() {
        Api.reset();
    }

    @Test
    void newStreamsAndHeartbeatsGetThroughWhilePublishersNeverPause() throws Exception {
        URI base = URI.create(Api.base());
        try (Readers readers = new Readers(new InetSocketAddress(base.getHost(), base.getPort()), STREAMS)) {
            Api.eventually(Duration.ofSeconds(60), STREAMS + " streams open", () -> Api.activeConnections() >= STREAMS);
            List<SseClient> idle = new ArrayList<>();
            for (int i = 0; i < IDLE; i++) {
                SseClient c = SseClient.connect(Api.stream("topic=idle"));
                c.await("connection_established", Duration.ofSeconds(10));
                idle.add(c);
            }

            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong published = new AtomicLong();
            List<Thread> publishers = new ArrayList<>();
            for (int i = 0; i < PUBLISHERS; i++) {
                Thread t = new Thread(() -> publishWithoutPause(running, published), "publisher-" + i);
                t.start();
                publishers.add(t);
            }
            long start = System.nanoTime();
            List<Long> firstFrameMillis = new ArrayList<>();
            while (System.nanoTime() - start < LOAD.toNanos()) {
                Thread.sleep(1000);
                long t0 = System.nanoTime();
                try (SseClient fresh = SseClient.connect(Api.stream("topic=fresh"))) {
                    fresh.await("connection_established", Duration.ofSeconds(30));
                    firstFrameMillis.add((System.nanoTime() - t0) / 1_000_000);
                }
            }
            long end = System.nanoTime();
            running.set(false);
            for (Thread t : publishers) {
                t.join(10_000);
            }

            System.out.printf("LoopResponsivenessTest: %d publishes in %d ms, %d bytes to %d streams, first frames %s ms%n",
                    published.get(), (end - start) / 1_000_000, readers.bytes(), STREAMS, firstFrameMillis);
            assertTrue(published.get() > 1000, "the publishers published without pause: " + published.get());
            assertTrue(readers.bytes() > 10_000_000L, "the streams took the flood: " + readers.bytes() + " bytes");
            assertEquals(STREAMS, readers.open(), "the loaded streams stayed open");
            for (long ms : firstFrameMillis) {
                assertTrue(ms < INTERVAL.toMillis(), "a new stream's first frame took " + ms + " ms: " + firstFrameMillis);
            }
            // Heartbeats are queued every INTERVAL; each one written within INTERVAL of its tick means no two
            // arrive more than 2 × INTERVAL apart, and none is missing.
            for (SseClient c : idle) {
                List<Long> beats = new ArrayList<>();
                for (SseClient.Frame f; (f = c.next(Duration.ZERO)) != null;) {
                    if ("heartbeat".equals(f.event()) && f.receivedNanos() > start && f.receivedNanos() < end) {
                        beats.add(f.receivedNanos());
                    }
                }
                long last = start;
                long worstGap = 0;
                for (long b : beats) {
                    worstGap = Math.max(worstGap, b - last);
                    last = b;
                }
                worstGap = Math.max(worstGap, end - last);
                assertTrue(worstGap < 2 * INTERVAL.toNanos(), "an idle stream went " + worstGap / 1_000_000
                        + " ms without a heartbeat under load (" + beats.size() + " heartbeats in "
                        + (end - start) / 1_000_000 + " ms)");
                c.close();
            }
        }
    }

    private static void publishWithoutPause(AtomicBoolean running, AtomicLong published) {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest req = HttpRequest.newBuilder(URI.create(Api.base() + "/api/sse/events"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"type\":\"load\",\"data\":{\"text\":\"flood\"},\"target\":{\"topics\":[\"load\"]}}"))
                .build();
        while (running.get()) {
            try {
                HttpResponse<Void> r = http.send(req, HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 202) {
                    published.incrementAndGet();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Many streams read by one selector thread that discards what arrives: clients that always keep up. */
    static final class Readers implements AutoCloseable {
        private final Selector selector;
        private final List<SocketChannel> channels = new ArrayList<>();
        private final AtomicLong bytes = new AtomicLong();
        private final Thread thread;
        private volatile boolean closing;

        Readers(InetSocketAddress server, int n) throws IOException {
            selector = Selector.open();
            byte[] request = ("GET /api/sse/stream?topic=load HTTP/1.1\r\nHost: " + server.getHostString() + ":"
                    + server.getPort() + "\r\nAccept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < n; i++) {
                SocketChannel ch = SocketChannel.open(server);
                ch.write(ByteBuffer.wrap(request));
                ch.configureBlocking(false);
                ch.register(selector, SelectionKey.OP_READ);
                channels.add(ch);
            }
            thread = new Thread(this::read, "stream-readers");
            thread.setDaemon(true);
            thread.start();
        }

        private void read() {
            ByteBuffer buf = ByteBuffer.allocateDirect(256 * 1024);
            try {
                while (!closing) {
                    selector.select(100);
                    for (SelectionKey k : selector.selectedKeys()) {
                        SocketChannel ch = (SocketChannel) k.channel();
                        buf.clear();
                        int r = ch.read(buf);
                        if (r < 0) {
                            k.cancel();
                            ch.close();
                        } else {
                            bytes.addAndGet(r);
                        }
                    }
                    selector.selectedKeys().clear();
                }
            } catch (IOException e) {
                if (!closing) {
                    throw new UncheckedIOException(e);
                }
            }
        }

        long bytes() {
            return bytes.get();
        }

        /** Streams the server has not ended. */
        long open() {
            return channels.stream().filter(SocketChannel::isOpen).count();
        }

        @Override
        public void close() throws Exception {
            closing = true;
            thread.join(2000);
            for (SocketChannel ch : channels) {
                ch.close();
            }
            selector.close();
        }
    }
}
