package dev.ssehub.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.ssehub.support.SseClient;
import io.restassured.path.json.JsonPath;

/**
 * Clients that stop reading cannot make the service hold memory per stream: a stream's waiting events
 * are references to the one copy every stream shares, and its writes hand the kernel those shared bytes
 * without copying them. The bounds come from the budgets: an event takes its wire bytes twice (on the
 * heap, and as the shared chunk in direct memory), so a batch takes at most 2 × its size, plus headroom for
 * the JVM's own work; the replay log holds what {@code sse.replay.max-bytes} allows (its gauge), and streams
 * that resume over it without reading add at most one more copy of it.
 * Before byte budgets and zero-copy writes, the first case took RSS up by 1.9 GB and the second by 1.5 GB.
 */
class MemoryBudgetIT {

    /** The container flags of docs/performance.md: a heap that gives back what it no longer needs. */
    static final List<String> CONTAINER_JVM = List.of("-XX:+UseParallelGC", "-Xms32m", "-Xmn16m",
            "-XX:MinHeapFreeRatio=5", "-XX:MaxHeapFreeRatio=10", "-Xmx512m");
    static final long MIB = 1024 * 1024;
    /**
     * What the JVM may take beyond the events themselves while it parses and encodes them (heap growth,
     * compiled code: more on JDK 25 than on 17). The failures this test exists for were gigabytes.
     */
    static final long HEADROOM_MIB = 128;
    static final long REPLAY_MAX_BYTES_MIB = 64; // the default sse.replay.max-bytes

    @Test
    void oneLargeBatchToManyStreamsThatDoNotRead() throws Exception {
        try (ServiceProcess svc = ServiceProcess.start(CONTAINER_JVM, ServiceProcess.with(ServiceProcess.OPEN, Map.of("SSE_HEARTBEAT_INTERVAL", "1s")));
                Stalled stalled = new Stalled()) {
            svc.awaitReady(Duration.ofSeconds(60));
            List<SseClient> readers = List.of(reader(svc, null), reader(svc, null));
            stalled.open(svc, 200, "");
            awaitStreams(svc, 202);

            StringBuilder batch = new StringBuilder("[");
            int events = 160;
            for (int i = 0; i < events; i++) {
                batch.append(i == 0 ? "" : ",").append("{\"type\":\"big\",\"data\":{\"n\":").append(i)
                        .append(",\"pad\":\"").append("x".repeat(62_000)).append("\"}}");
            }
            batch.append(']');
            long batchMiB = batch.length() / MIB;
            long before = svc.rssMiB();
            assertEquals(202, svc.post("/api/sse/events/batch", batch.toString()).statusCode());
            for (SseClient r : readers) {
                for (int i = 0; i < events; i++) {
                    SseClient.Frame f = r.await("big", Duration.ofSeconds(60));
                    assertEquals(i, JsonPath.from(f.data()).getInt("n"), "readers get every event, in order");
                }
            }
            Thread.sleep(2000);
            long after = svc.rssMiB();
            long bound = before + 2 * (batchMiB + 1) + HEADROOM_MIB;
            System.out.printf("MemoryBudgetIT batch: %d MiB batch to 200 streams that do not read: RSS %d -> %d MiB "
                    + "(bound %d)%n", batchMiB, before, after, bound);
            assertTrue(after <= bound, "RSS " + before + " -> " + after + " MiB, bound " + bound);
            readers.forEach(SseClient::close);
        }
    }

    @Test
    void streamsThatDoNotReadResumingOverAFullLog() throws Exception {
        try (ServiceProcess svc = ServiceProcess.start(CONTAINER_JVM, ServiceProcess.OPEN); Stalled stalled = new Stalled()) {
            svc.awaitReady(Duration.ofSeconds(60));
            long idle = svc.rssMiB();
            // 12 batches of 100 events of 64 KB: more than sse.replay.max-bytes, so the log is full.
            for (int b = 0; b < 12; b++) {
                StringBuilder batch = new StringBuilder("[");
                for (int i = 0; i < 100; i++) {
                    batch.append(i == 0 ? "" : ",").append("{\"type\":\"big\",\"data\":\"").append("y".repeat(64_000))
                            .append("\"}");
                }
                assertEquals(202, svc.post("/api/sse/events/batch", batch.append(']').toString()).statusCode());
            }
            int held = JsonPath.from(svc.get("/api/sse/stats").body()).getInt("replayBufferSize");
            assertTrue(held > 500 && held < 1200, "the log holds what fits in sse.replay.max-bytes: " + held);
            long full = svc.rssMiB();

            stalled.open(svc, 100, "?lastEventId=0-0");
            SseClient resumed = reader(svc, "0-0");
            awaitStreams(svc, 101);
            List<SseClient.Frame> got = new ArrayList<>();
            while (got.size() < held) {
                SseClient.Frame f = resumed.await(x -> "big".equals(x.event()), Duration.ofSeconds(60), "replayed event");
                got.add(f);
            }
            assertEquals(held, got.size(), "a reader resuming alongside them gets every event held");
            Thread.sleep(2000);
            long after = svc.rssMiB();
            // The log itself holds what sse.replay.max-bytes allows (its own gauge: the JVM's heap may keep the
            // garbage of the publishes for a while, more on JDK 25 than on 17, so RSS alone would not say it).
            double logBytes = metricPrefix(svc.get("/q/metrics").body(), "sse_replay_bytes");
            assertTrue(logBytes > 0 && logBytes <= REPLAY_MAX_BYTES_MIB * MIB, "sse_replay_bytes " + logBytes);
            // The streams that do not read share the log's chunks: at most one more copy of the log, and headroom.
            long bound = full + REPLAY_MAX_BYTES_MIB + HEADROOM_MIB / 2;
            System.out.printf("MemoryBudgetIT replay: log of %d events of 64 KB (%.1f MiB); RSS idle %d, log full %d, "
                    + "with 100 streams that do not read resuming from 0-0 %d MiB (bound %d)%n", held, logBytes / MIB,
                    idle, full, after, bound);
            assertTrue(after <= bound, "RSS idle " + idle + ", full " + full + ", after " + after + " MiB; bound " + bound);
            resumed.close();
        }
    }

    /** The value of the first sample of this metric in a Prometheus text page (with or without labels). */
    private static double metricPrefix(String page, String name) {
        for (String line : page.split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).trim());
            }
        }
        return Double.NaN;
    }

    private static SseClient reader(ServiceProcess svc, String lastEventId) {
        SseClient c = SseClient.connect(svc.base() + "/api/sse/stream", lastEventId);
        c.await("connection_established", Duration.ofSeconds(10));
        return c;
    }

    private static void awaitStreams(ServiceProcess svc, int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (JsonPath.from(svc.get("/api/sse/stats").body()).getInt("activeConnections") < n) {
            assertTrue(System.nanoTime() < deadline, n + " streams open");
            Thread.sleep(100);
        }
    }

    /** Streams whose client sent its request and never reads: a small receive buffer that fills at once. */
    static final class Stalled implements AutoCloseable {
        private final List<Socket> sockets = new ArrayList<>();

        void open(ServiceProcess svc, int n, String query) throws IOException {
            byte[] request = ("GET /api/sse/stream" + query + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < n; i++) {
                Socket s = new Socket();
                s.setReceiveBufferSize(4096);
                s.connect(new InetSocketAddress("127.0.0.1", svc.port), 5000);
                s.getOutputStream().write(request);
                sockets.add(s);
            }
        }

        @Override
        public void close() throws IOException {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
