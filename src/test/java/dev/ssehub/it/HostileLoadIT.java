package dev.ssehub.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.ssehub.support.SseClient;

/**
 * Cheap attacks on the packaged service: stalled uploads and half-sent request
 * heads. Health, metrics and ordinary clients keep being served throughout, and every attacking connection is
 * closed within the configured timeout. Timeouts are shortened (3 s) so the test stays short; the figures
 * with the default settings are in docs/robustness.md.
 *
 * <p>Attackers connect from 127.0.0.2 and up, probes and ordinary clients from 127.0.0.1, as in production
 * where a probe does not share the attacker's address. Authentication and rate limits are off
 * ({@link ServiceProcess#OPEN}): the worst case, an attacker that holds a valid token, and probes that
 * publish without one.
 */
class HostileLoadIT {

    static final Duration TIMEOUT = Duration.ofSeconds(3);
    /**
     * The guard closes a stalled body within 1.25 × its timeout (it checks in quarters of it) and a half-sent
     * head at its timeout; the rest is room for a machine shared with other builds.
     */
    static final Duration CLOSED_WITHIN = TIMEOUT.multipliedBy(2).plusSeconds(2);

    /**
     * 300 uploads declare a body of 1,000,000 bytes, send 20 KB and stop. Before the fix each held a worker
     * thread (27 → 226) and health, metrics and publishes timed out. Now those that fit in the body budget are
     * read on the event loop until they stall and closed at the body timeout, the rest refused at once.
     */
    @Test
    void stalledUploadsAreClosedAndNothingElseWaits() throws Exception {
        try (ServiceProcess svc = ServiceProcess.start(
                ServiceProcess.with(ServiceProcess.OPEN, Map.of("SSE_HTTP_BODY_TIMEOUT", "3s")));
                Sockets attack = new Sockets()) {
            svc.awaitReady(Duration.ofSeconds(30));
            int threadsBefore = threads(svc);
            List<Prober> probers = List.of(Prober.get(svc.port, "/q/health/live"),
                    Prober.get(svc.port, "/q/health/ready"), Prober.get(svc.port, "/q/metrics"),
                    Prober.publish(svc.port));
            byte[] head = ("POST /api/sse/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 1000000\r\n\r\n{\"type\":\"x\",\"data\":\"").getBytes(StandardCharsets.US_ASCII);
            byte[] upload = new byte[head.length + 20_000];
            System.arraycopy(head, 0, upload, 0, head.length);
            java.util.Arrays.fill(upload, head.length, upload.length, (byte) 'a');
            for (int i = 0; i < 300; i++) {
                attack.open("127.0.0." + (2 + i % 3), svc.port, upload);
            }
            int threadsDuring = threads(svc);
            awaitAllEnded(attack, Duration.ofSeconds(20));
            Thread.sleep(1000); // keep probing a little after the last close
            for (Prober p : probers) {
                p.close();
            }

            String report = report(attack, probers) + "\nthreads " + threadsBefore + " before, " + threadsDuring
                    + " during";
            System.out.println("HostileLoadIT stalled uploads: " + report);
            for (Sockets.Conn c : attack.all()) {
                assertTrue(c.ended(), "every stalled upload closed:\n" + report);
                // 408 at the body timeout, or 503 at once for those beyond the body budget (50 of 1,000,000 bytes
                // fit in the 48M that bodies larger than one event may hold).
                assertTrue((c.firstBytes.startsWith("HTTP/1.1 408 ") || c.firstBytes.startsWith("HTTP/1.1 503 "))
                        && c.firstBytes.contains("application/problem+json"), "408 or 503 problem: " + c.firstBytes);
                assertTrue(c.endedAfterMillis() < CLOSED_WITHIN.toMillis(), "closed within the body timeout:\n" + report);
            }
            assertProbes(probers, report);
            assertTrue(threadsDuring - threadsBefore < 20, "no thread per upload:\n" + report);
            double timedOut = svc.metric("sse_http_connections_closed_total{reason=\"body_timeout\"}");
            double refused = svc.metric("sse_http_connections_refused_total{reason=\"body_budget\"}");
            assertEquals(300, timedOut + refused, report);
            assertTrue(timedOut >= 50, "the uploads that fit were read until they stalled: " + report);
        }
    }

    /**
     * 5,000 connections from one address send part of a request head and stop. Before the fix they were
     * never closed, and 19,975 of them filled the file limit: liveness timed out and no stream could open.
     */
    @Test
    void halfSentHeadsAreClosedAndStreamsStillOpen() throws Exception {
        try (ServiceProcess svc = ServiceProcess.start(
                ServiceProcess.with(ServiceProcess.OPEN, Map.of("SSE_HTTP_HEADER_TIMEOUT", "3s")));
                Sockets attack = new Sockets()) {
            svc.awaitReady(Duration.ofSeconds(30));
            List<Prober> probers = List.of(Prober.get(svc.port, "/q/health/live"),
                    Prober.get(svc.port, "/q/health/ready"));
            byte[] half = "GET /api/sse/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
                    .getBytes(StandardCharsets.US_ASCII);
            List<SseClient> streams = new ArrayList<>();
            for (int i = 0; i < 5000; i++) {
                attack.open("127.0.0.2", svc.port, half);
                if (i % 1000 == 999) {
                    // An ordinary client opens a stream in the middle of the attack.
                    SseClient c = SseClient.connect(svc.base() + "/api/sse/stream?topic=t");
                    c.await("connection_established", Duration.ofSeconds(5));
                    streams.add(c);
                }
            }
            awaitAllEnded(attack, Duration.ofSeconds(20));
            Thread.sleep(1000);
            for (Prober p : probers) {
                p.close();
            }
            String report = report(attack, probers);
            System.out.println("HostileLoadIT half-sent heads: " + report);
            for (Sockets.Conn c : attack.all()) {
                assertTrue(c.ended(), "every half-sent head closed:\n" + report);
                assertTrue(c.endedAfterMillis() < CLOSED_WITHIN.toMillis(), "closed within the header timeout:\n" + report);
            }
            assertProbes(probers, report);
            double refused = svc.metric("sse_http_connections_refused_total{reason=\"per_address\"}");
            double timedOut = svc.metric("sse_http_connections_closed_total{reason=\"header_timeout\"}");
            assertEquals(5000, refused + timedOut, report);
            assertEquals(1024, timedOut, "sse.http.max-pending-per-address (1024) admitted, the rest refused");
            // The streams opened during the attack still get events.
            String id = svc.publish("{\"type\":\"after\",\"target\":{\"topics\":[\"t\"]}}");
            for (SseClient c : streams) {
                assertEquals(id, c.await("after", Duration.ofSeconds(5)).id());
                c.close();
            }
        }
    }

    /**
     * 60 uploads of 16 MiB (sse.max-batch-bytes) stop one byte short. Before the body budget each held its
     * body until the body timeout: RSS 129 → 1,746 MiB (docs/robustness.md), enough to get a 512 Mi pod killed.
     * Now the bodies being read hold at most sse.http.body-total-bytes (64M; uploads larger than one event
     * 48M of it): the others get 503 before a byte of their body is read, and RSS stays within twice the budget
     * plus the headroom MemoryBudgetIT allows. Publishes of single events and probes are served throughout.
     */
    @Test
    void uploadsThatStopShortHoldAtMostTheBodyBudget() throws Exception {
        try (ServiceProcess svc = ServiceProcess.start(MemoryBudgetIT.CONTAINER_JVM,
                ServiceProcess.with(ServiceProcess.OPEN, Map.of("SSE_HTTP_BODY_TIMEOUT", "3s")));
                Sockets attack = new Sockets()) {
            svc.awaitReady(Duration.ofSeconds(30));
            long before = svc.rssMiB();
            List<Prober> probers = List.of(Prober.get(svc.port, "/q/health/live"), Prober.publish(svc.port));
            int limit = 16 * 1024 * 1024;
            byte[] head = ("POST /api/sse/events/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + limit + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] upload = new byte[head.length + limit - 1];
            System.arraycopy(head, 0, upload, 0, head.length);
            java.util.Arrays.fill(upload, head.length, upload.length, (byte) ' ');
            long[] peak = { before };
            Thread rss = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    try {
                        peak[0] = Math.max(peak[0], svc.rssMiB());
                        Thread.sleep(100);
                    } catch (java.io.IOException | InterruptedException e) {
                        return;
                    }
                }
            });
            rss.start();
            for (int i = 0; i < 60; i++) {
                attack.open("127.0.0." + (2 + i % 3), svc.port, upload);
            }
            awaitAllEnded(attack, Duration.ofSeconds(20));
            Thread.sleep(1000);
            rss.interrupt();
            rss.join();
            for (Prober p : probers) {
                p.close();
            }
            double refused = svc.metric("sse_http_connections_refused_total{reason=\"body_budget\"}");
            double timedOut = svc.metric("sse_http_connections_closed_total{reason=\"body_timeout\"}");
            long bound = before + 2 * 64 + MemoryBudgetIT.HEADROOM_MIB;
            String report = report(attack, probers) + String.format("%nRSS %d -> peak %d MiB (bound %d); %.0f refused "
                    + "(body budget), %.0f closed at the body timeout", before, peak[0], bound, refused, timedOut);
            System.out.println("HostileLoadIT uploads one byte short of 16 MiB: " + report);
            for (Sockets.Conn c : attack.all()) {
                assertTrue(c.ended(), "every upload ended:\n" + report);
                assertTrue(c.endedAfterMillis() < CLOSED_WITHIN.toMillis(), "within the body timeout:\n" + report);
            }
            assertEquals(60, refused + timedOut, "each upload refused at once or closed at its timeout:\n" + report);
            assertTrue(refused >= 30, "most uploads found no room:\n" + report);
            assertTrue(peak[0] <= bound, report);
            assertProbes(probers, report);
        }
    }

    private static void awaitAllEnded(Sockets attack, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && !attack.all().stream().allMatch(Sockets.Conn::ended)) {
            Thread.sleep(100);
        }
    }

    /**
     * Every probe answered (before the fix they timed out, at 5 s, for as long as the attack lasted), and
     * typically at once. The 1 s bound of the issue is measured on a quiet machine by bench/hostile.py
     * (docs/robustness.md); here, on a machine shared with other builds, a rare answer may lag behind.
     */
    private static void assertProbes(List<Prober> probers, String report) {
        for (Prober p : probers) {
            assertTrue(p.results().size() > 10, report);
            assertEquals(0, p.failures(), "every request answered within 5 s:\n" + report);
            assertTrue(p.p50Millis() < 250, "answers typically at once:\n" + report);
        }
    }

    private static String report(Sockets attack, List<Prober> probers) {
        List<Sockets.Conn> all = attack.all();
        long ended = all.stream().filter(Sockets.Conn::ended).count();
        long max = all.stream().filter(Sockets.Conn::ended).mapToLong(Sockets.Conn::endedAfterMillis).max().orElse(-1);
        long answered = all.stream().filter(c -> c.firstBytes.startsWith("HTTP/")).count();
        StringBuilder sb = new StringBuilder(String.format("%d of %d attacking connections ended (%d with an answer), "
                + "the last after %d ms", ended, all.size(), answered, max));
        for (Prober p : probers) {
            sb.append("\n  ").append(p.summary());
        }
        return sb.toString();
    }

    /** The service's threads, from /proc (Linux). */
    private static int threads(ServiceProcess svc) throws java.io.IOException {
        Path tasks = Path.of("/proc", Long.toString(svc.process.pid()), "task");
        try (var s = Files.list(tasks)) {
            return (int) s.count();
        }
    }
}
