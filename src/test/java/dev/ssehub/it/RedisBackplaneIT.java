package dev.ssehub.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import dev.ssehub.support.SseClient;
import dev.ssehub.support.TestRedis;
import io.restassured.path.json.JsonPath;

/**
 * Two packaged instances on one real Redis (started by the test): cluster-wide order and ids, resuming
 * on the other instance, idempotency across instances, an outage that loses nothing Redis accepted, and
 * a Redis that lost its data.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RedisBackplaneIT {

    private TestRedis redis;
    private ServiceProcess a;
    private ServiceProcess b;

    @BeforeAll
    void start() throws Exception {
        redis = TestRedis.start(true);
        a = instance();
        b = instance();
        a.awaitReady(Duration.ofSeconds(60));
        b.awaitReady(Duration.ofSeconds(60));
    }

    private ServiceProcess instance() throws Exception {
        return ServiceProcess.start(ServiceProcess.with(ServiceProcess.OPEN, Map.of("SSE_BACKPLANE", "redis",
                "QUARKUS_REDIS_HOSTS", redis.url(), "SSE_HEARTBEAT_INTERVAL", "1s", "QUARKUS_REDIS_TIMEOUT", "3s",
                "SSE_REDIS_BLOCK", "1s")));
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] { a, b, redis }) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    @Order(1)
    void eventsPublishedOnEitherInstanceReachEveryClientInOneOrderWithTheSameIds() {
        String topic = "order";
        List<SseClient> clients = List.of(open(a, topic, null), open(a, topic, null), open(b, topic, null),
                open(b, topic, null));
        List<String> published = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            published.add(publish(i % 2 == 0 ? a : b, topic, i));
        }
        for (SseClient c : clients) {
            assertEquals(published, ids(c, published.size()), "every client: the same ids, in publish order");
            c.close();
        }
        for (int i = 1; i < published.size(); i++) {
            assertTrue(compare(published.get(i - 1), published.get(i)) < 0, "ids increase across instances");
        }
    }

    @Test
    @Order(2)
    void aClientResumesOnTheOtherInstanceWithEveryEventOnce() {
        String topic = "resume";
        SseClient onA = open(a, topic, null);
        List<String> published = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            published.add(publish(i % 2 == 0 ? a : b, topic, i));
        }
        List<String> first = ids(onA, 300);
        onA.close();
        for (int i = 300; i < 600; i++) {
            published.add(publish(i % 2 == 0 ? a : b, topic, i));
        }
        SseClient onB = open(b, topic, first.get(first.size() - 1));
        List<String> rest = ids(onB, 300);
        onB.close();
        List<String> all = new ArrayList<>(first);
        all.addAll(rest);
        assertEquals(published, all, "every event exactly once across the move from A to B");
    }

    @Test
    @Order(3)
    void theSameIdempotencyKeyOnBothInstancesPublishesOneEvent() {
        String topic = "idem";
        SseClient c = open(b, topic, null);
        JsonPath first = JsonPath.from(accepted(a, "{\"type\":\"t\",\"id\":\"order-7\",\"data\":1,\"target\":{\"topics\":[\"idem\"]}}"));
        JsonPath again = JsonPath.from(accepted(b, "{\"type\":\"t\",\"id\":\"order-7\",\"data\":2,\"target\":{\"topics\":[\"idem\"]}}"));
        assertEquals(first.getString("id"), again.getString("id"));
        assertEquals(Boolean.TRUE, again.get("duplicate"));
        String marker = publish(a, topic, 99);
        List<SseClient.Frame> got = new ArrayList<>();
        while (got.isEmpty() || !marker.equals(got.get(got.size() - 1).id())) {
            got.add(c.await("t", Duration.ofSeconds(10)));
        }
        assertEquals(List.of(first.getString("id"), marker), got.stream().map(SseClient.Frame::id).toList(),
                "one event for the key, then the marker");
        c.close();
    }

    @Test
    @Order(4)
    void aRedisOutageLosesNothingAcceptedAndDeliversNothingRefused() throws Exception {
        String topic = "outage";
        SseClient onA = open(a, topic, null);
        SseClient onB = open(b, topic, null);
        Map<String, String> accepted = new LinkedHashMap<>(); // data → id
        Set<String> refused = ConcurrentHashMap.newKeySet();
        AtomicBoolean downSeenA = new AtomicBoolean();
        AtomicBoolean downSeenB = new AtomicBoolean();
        AtomicBoolean publishing = new AtomicBoolean(true);
        Thread probe = new Thread(() -> {
            while (publishing.get()) {
                downSeenA.compareAndSet(false, a.status("/q/health/ready") == 503);
                downSeenB.compareAndSet(false, b.status("/q/health/ready") == 503);
                sleep(100);
            }
        });
        probe.start();
        long start = System.nanoTime();
        boolean stopped = false;
        boolean restarted = false;
        for (int i = 0; System.nanoTime() - start < Duration.ofSeconds(12).toNanos(); i++) {
            long elapsed = System.nanoTime() - start;
            if (!stopped && elapsed > Duration.ofSeconds(3).toNanos()) {
                redis.stop();
                stopped = true;
            } else if (stopped && !restarted && elapsed > Duration.ofSeconds(8).toNanos()) {
                redis.start();
                restarted = true;
            }
            String data = "\"o" + i + "\"";
            HttpResponse<String> r = (i % 2 == 0 ? a : b).post("/api/sse/events",
                    "{\"type\":\"t\",\"data\":" + data + ",\"target\":{\"topics\":[\"" + topic + "\"]}}");
            if (r.statusCode() == 202) {
                accepted.put(data, JsonPath.from(r.body()).getString("id"));
            } else {
                assertEquals(503, r.statusCode(), r.body());
                assertTrue(r.headers().firstValue("Retry-After").isPresent(), "503 with Retry-After");
                assertTrue(r.body().contains("\"status\":503"), "problem+json: " + r.body());
                refused.add(data);
            }
            sleep(20); // 50 publishes a second
        }
        publishing.set(false);
        probe.join();
        assertTrue(stopped && restarted);
        assertFalse(refused.isEmpty(), "publishing was refused during the outage");
        assertTrue(downSeenA.get() && downSeenB.get(), "readiness was DOWN on both instances during the outage");
        a.awaitReady(Duration.ofSeconds(30));
        b.awaitReady(Duration.ofSeconds(30));

        List<String> expected = new ArrayList<>(accepted.values());
        for (SseClient c : List.of(onA, onB)) {
            List<SseClient.Frame> got = new ArrayList<>();
            while (got.size() < expected.size()) {
                got.add(c.await("t", Duration.ofSeconds(20)));
            }
            assertEquals(expected, got.stream().map(SseClient.Frame::id).toList(),
                    "every accepted event once, in order, after the outage");
            List<SseClient.Frame> extra = c.drainEvents(Duration.ofSeconds(1));
            assertTrue(extra.stream().noneMatch(f -> refused.contains(f.data())), "a refused event reached a client");
            assertFalse(c.ended(), "the stream stayed open through the outage");
            c.close();
        }
        System.out.printf("RedisBackplaneIT outage: %d accepted, %d refused (503) during a 5 s Redis stop%n",
                accepted.size(), refused.size());
    }

    @Test
    @Order(5)
    void aRedisThatLostItsDataRestartsTheHistoryAndEventsFlowAgain() throws Exception {
        try (TestRedis volatileRedis = TestRedis.start(false);
                ServiceProcess c = ServiceProcess.start(ServiceProcess.with(ServiceProcess.OPEN, Map.of("SSE_BACKPLANE",
                        "redis", "QUARKUS_REDIS_HOSTS", volatileRedis.url(), "SSE_HEARTBEAT_INTERVAL", "1s",
                        "QUARKUS_REDIS_TIMEOUT", "3s", "SSE_REDIS_BLOCK", "1s")))) {
            c.awaitReady(Duration.ofSeconds(60));
            String before = publish(c, "loss", 1);
            volatileRedis.stop();
            volatileRedis.start(); // no persistence: the stream and its epoch are gone
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            HttpResponse<String> r;
            do {
                sleep(200);
                r = c.post("/api/sse/events", "{\"type\":\"t\",\"data\":2,\"target\":{\"topics\":[\"loss\"]}}");
            } while (r.statusCode() != 202 && System.nanoTime() < deadline);
            assertEquals(202, r.statusCode(), "publishing works again without restarting the instance: " + r.body());
            String after = JsonPath.from(r.body()).getString("id");

            SseClient resumed = open(c, "loss", before);
            SseClient.Frame first = resumed.await(f -> f.event() != null && !"heartbeat".equals(f.event()),
                    Duration.ofSeconds(10), "the first frame after the resume");
            assertEquals("replay_truncated", first.event(), "told that events may be missing");
            assertEquals(after, resumed.await("t", Duration.ofSeconds(10)).id());
            String later = publish(c, "loss", 3);
            assertEquals(later, resumed.await("t", Duration.ofSeconds(10)).id(), "new events flow");
            resumed.close();
        }
    }

    private static SseClient open(ServiceProcess svc, String topic, String lastEventId) {
        SseClient c = SseClient.connect(svc.base() + "/api/sse/stream?topic=" + topic, lastEventId);
        c.await("connection_established", Duration.ofSeconds(10));
        return c;
    }

    private static String publish(ServiceProcess svc, String topic, int n) {
        return JsonPath.from(accepted(svc, "{\"type\":\"t\",\"data\":" + n + ",\"target\":{\"topics\":[\"" + topic
                + "\"]}}")).getString("id");
    }

    private static String accepted(ServiceProcess svc, String json) {
        HttpResponse<String> r = svc.post("/api/sse/events", json);
        assertEquals(202, r.statusCode(), r.body());
        return r.body();
    }

    /** The ids of the next {@code n} events (all of type t). */
    private static List<String> ids(SseClient c, int n) {
        List<String> out = new ArrayList<>(n);
        while (out.size() < n) {
            out.add(c.await("t", Duration.ofSeconds(20)).id());
        }
        return out;
    }

    private static int compare(String x, String y) {
        String[] a = x.split("-");
        String[] b = y.split("-");
        int c = Long.compare(Long.parseLong(a[0]), Long.parseLong(b[0]));
        return c != 0 ? c : Long.compare(Long.parseLong(a[1]), Long.parseLong(b[1]));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
