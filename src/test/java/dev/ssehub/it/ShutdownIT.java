package dev.ssehub.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import dev.ssehub.support.SseClient;

/**
 * SIGTERM on the packaged service: readiness reports DOWN before any stream closes, every stream ends
 * cleanly within the drain period, spread over it, and the process ends as a JVM ends on SIGTERM (143)
 * after Quarkus's orderly shutdown, not killed at a timeout.
 */
class ShutdownIT {

    @Test
    void sigtermDrainsStreamsThenExits() throws Exception {
        try (ServiceProcess svc = ServiceProcess.start(ServiceProcess.with(ServiceProcess.OPEN,
                Map.of("SSE_SHUTDOWN_DRAIN", "3s", "SSE_HEARTBEAT_INTERVAL", "1s")))) {
            svc.awaitReady(Duration.ofSeconds(30));
            List<SseClient> clients = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                SseClient c = SseClient.connect(svc.base() + "/api/sse/stream?userId=s" + i);
                c.await("connection_established", Duration.ofSeconds(5));
                clients.add(c);
            }
            AtomicLong readyDownAt = new AtomicLong();
            Thread prober = new Thread(() -> {
                while (readyDownAt.get() == 0) {
                    if (svc.status("/q/health/ready") == 503) {
                        readyDownAt.set(System.nanoTime());
                    }
                }
            });
            long termAt = System.nanoTime();
            svc.process.destroy(); // SIGTERM
            prober.start();

            List<Long> endedAt = new ArrayList<>();
            boolean heartbeatDuringDrain = false;
            for (SseClient c : clients) {
                // Heartbeats go on while a stream waits for its turn to close.
                while (true) {
                    SseClient.Frame f = c.next(Duration.ofMillis(50));
                    if (f != null) {
                        heartbeatDuringDrain |= "heartbeat".equals(f.event()) && f.receivedNanos() > termAt;
                    } else if (c.ended() || System.nanoTime() - termAt > Duration.ofSeconds(10).toNanos()) {
                        break;
                    }
                }
                assertTrue(c.awaitEnd(Duration.ofSeconds(1)), "stream ended");
                endedAt.add(c.endedNanos());
                assertEquals(200, c.status());
            }
            assertTrue(svc.process.waitFor(20, TimeUnit.SECONDS), "process exited");
            assertEquals(143, svc.process.exitValue(), svc.output());
            assertTrue(svc.output().contains("stopped in"), "Quarkus shut down in order:\n" + svc.output());
            prober.join(1000);

            long down = readyDownAt.get();
            assertTrue(down != 0, "readiness reported DOWN");
            long firstEnd = endedAt.stream().min(Long::compare).orElseThrow();
            long lastEnd = endedAt.stream().max(Long::compare).orElseThrow();
            assertTrue(down <= firstEnd, "readiness DOWN before the first stream closed");
            assertTrue(lastEnd - termAt < Duration.ofMillis(3000 + 1500).toNanos(),
                    "all streams closed within the drain: " + (lastEnd - termAt) / 1_000_000 + " ms");
            assertTrue(lastEnd - firstEnd > Duration.ofMillis(1000).toNanos(),
                    "closes spread over the drain: " + (lastEnd - firstEnd) / 1_000_000 + " ms");
            assertTrue(heartbeatDuringDrain, "heartbeats continued during the drain:\n" + svc.output());
            assertTrue(svc.output().contains("closing 6 streams"), svc.output());
        }
    }
}
