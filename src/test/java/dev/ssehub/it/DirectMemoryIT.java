package dev.ssehub.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.ssehub.support.SseClient;
import io.restassured.path.json.JsonPath;

/**
 * With direct memory deliberately small, the allocation for a stream's write fails: that stream is
 * closed (counted as a {@code memory} delivery error) at once, without the seconds-long stall of the
 * JDK's reservation loop, and a healthy stream on the same service keeps receiving its events and
 * heartbeats on time.
 */
class DirectMemoryIT {

    @Test
    void aFailedAllocationClosesTheStreamItWasForAndNothingElse() throws Exception {
        try (ServiceProcess svc = ServiceProcess.start(List.of("-XX:MaxDirectMemorySize=16m"),
                ServiceProcess.with(ServiceProcess.OPEN, Map.of("SSE_HEARTBEAT_INTERVAL", "1s")))) {
            svc.awaitReady(Duration.ofSeconds(60));
            SseClient healthy = SseClient.connect(svc.base() + "/api/sse/stream?topic=small", null);
            healthy.await("connection_established", Duration.ofSeconds(10));
            SseClient victim = SseClient.connect(svc.base() + "/api/sse/stream?topic=big", null);
            victim.await("connection_established", Duration.ofSeconds(10));

            // Events of 60 KB for the victim: each one's shared chunk stays in direct memory while the
            // replay log holds the event, until no more fits.
            String big = "{\"type\":\"big\",\"data\":\"" + "z".repeat(60_000) + "\",\"target\":{\"topics\":[\"big\"]}}";
            List<Long> smallLatencyMillis = new ArrayList<>();
            int sent = 0;
            for (int round = 0; round < 60 && !victim.ended(); round++) {
                StringBuilder batch = new StringBuilder("[").append(big);
                for (int i = 1; i < 10; i++) {
                    batch.append(',').append(big);
                }
                assertEquals(202, svc.post("/api/sse/events/batch", batch.append(']').toString())
                        .statusCode());
                long t0 = System.nanoTime();
                assertEquals(202, svc.post("/api/sse/events",
                        "{\"type\":\"small\",\"data\":" + round + ",\"target\":{\"topics\":[\"small\"]}}").statusCode());
                SseClient.Frame f = healthy.await("small", Duration.ofSeconds(10));
                smallLatencyMillis.add((System.nanoTime() - t0) / 1_000_000);
                assertEquals(Integer.toString(round), f.data(), "the healthy stream gets every event, in order");
                sent = round + 1;
                Thread.sleep(100);
            }
            assertTrue(victim.awaitEnd(Duration.ofSeconds(10)), "the stream whose allocation failed was closed");
            String metrics = svc.get("/q/metrics").body();
            assertTrue(sample(metrics, "sse_delivery_errors_total{reason=\"memory\"}") >= 1, "counted as memory");
            assertTrue(sample(metrics, "sse_connections_closed_total{reason=\"write_error\"}") >= 1, metrics);
            assertTrue(svc.output().contains("write failed (memory)"), "logged: " + svc.output());
            // The service refused the allocation itself, before the JDK's reservation loop (which collects
            // garbage and sleeps about half a second per failure, stalling the loop) could run and fail.
            assertTrue(svc.output().contains("Direct memory for shared chunks exhausted"), svc.output());
            assertTrue(!svc.output().contains("Cannot reserve"), "no allocation reached the JDK's failing path:\n"
                    + svc.output());

            // After the failure: the healthy stream still gets events and heartbeats, on time.
            long after = System.nanoTime();
            int heartbeats = 0;
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                svc.post("/api/sse/events", "{\"type\":\"small\",\"data\":\"after-" + i
                        + "\",\"target\":{\"topics\":[\"small\"]}}");
                SseClient.Frame f = healthy.await("small", Duration.ofSeconds(10));
                assertEquals("\"after-" + i + "\"", f.data());
                smallLatencyMillis.add((System.nanoTime() - t0) / 1_000_000);
                Thread.sleep(1000);
            }
            for (SseClient.Frame f; (f = healthy.next(Duration.ofMillis(1500))) != null;) {
                if ("heartbeat".equals(f.event()) && f.receivedNanos() > after) {
                    heartbeats++;
                    break;
                }
            }
            assertTrue(heartbeats > 0, "the healthy stream still gets heartbeats");
            assertTrue(!healthy.ended(), "the healthy stream is open");
            long worst = smallLatencyMillis.stream().mapToLong(Long::longValue).max().orElseThrow();
            System.out.printf("DirectMemoryIT: victim closed after %d batches of 10 x 60 KB; healthy stream's publish "
                    + "to receive: worst %d ms over %d events%n", sent, worst, smallLatencyMillis.size());
            assertTrue(worst < 2000, "on time: worst publish-to-receive " + worst + " ms: " + smallLatencyMillis);
            healthy.close();
        }
    }

    private static double sample(String metrics, String name) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        return Double.NaN;
    }
}
