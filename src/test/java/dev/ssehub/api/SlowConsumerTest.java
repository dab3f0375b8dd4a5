package dev.ssehub.api;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.SseClient;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;

/**
 * A client that opens a stream and never reads, while 20,000 events of 1 KiB are broadcast: the others
 * get every event in order, the stalled one's outbox stays bounded, and the default policy disconnects
 * it. {@link SlowConsumerDropOldestTest} runs the same with {@code sse.slow-consumer=drop-oldest}.
 */
@QuarkusTest
class SlowConsumerTest {

    static final int EVENTS = 20_000;
    static final int BATCH = 250;
    static final int QUEUE = 256;

    @BeforeEach
    void reset() {
        Api.reset();
    }

    @Test
    void stalledClientIsDisconnectedAndOthersGetEverything() throws Exception {
        Result r = run();
        assertTrue(r.maxQueued <= QUEUE, "stalled outbox peaked at " + r.maxQueued);
        assertTrue(!r.stalledConnected(), "stalled client disconnected");
        assertTrue(Api.metric("sse_connections_closed_total{reason=\"slow_consumer\"}") >= 1);
    }

    /** Publishes while watching the stalled connection; returns what it saw. */
    Result run() throws Exception {
        int port = Integer.getInteger("quarkus.http.test-port", 8081);
        String payload = "\"" + "p".repeat(1000) + "\"";
        try (Socket stalled = new Socket()) {
            stalled.setReceiveBufferSize(1024);
            stalled.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            OutputStream out = stalled.getOutputStream();
            out.write(("GET /api/sse/stream?userId=stalled HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Api.eventually(Duration.ofSeconds(5), "stalled client registered",
                    () -> given().get("/api/sse/connections?userId=stalled").jsonPath().getInt("total") == 1);

            List<Reader> readers = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                readers.add(new Reader(Api.open("userId=healthy" + i)));
            }
            int maxQueued = 0;
            long maxDropped = 0;
            List<String> published = new ArrayList<>(EVENTS);
            for (int b = 0; b < EVENTS / BATCH; b++) {
                StringBuilder body = new StringBuilder("[");
                for (int i = 0; i < BATCH; i++) {
                    body.append(i == 0 ? "" : ",").append("{\"type\":\"bulk\",\"data\":").append(payload).append('}');
                }
                JsonPath ans = given().contentType("application/json").body(body.append(']').toString())
                        .post("/api/sse/events/batch").then().statusCode(202).extract().jsonPath();
                published.addAll(ans.getList("id"));
                JsonPath conn = given().get("/api/sse/connections?userId=stalled").jsonPath();
                if (conn.getInt("total") == 1) {
                    maxQueued = Math.max(maxQueued, conn.getInt("connections[0].queued"));
                    maxDropped = Math.max(maxDropped, conn.getLong("connections[0].eventsDropped"));
                }
                // Pace the publisher to what healthy readers take, so only the stalled client can fall behind.
                int sent = published.size();
                Api.eventually(Duration.ofSeconds(20), "healthy readers keep up",
                        () -> readers.stream().allMatch(rd -> rd.count.get() >= sent - 2 * BATCH || rd.failure.get() != null));
            }
            for (Reader rd : readers) {
                Api.eventually(Duration.ofSeconds(30), "healthy reader got everything",
                        () -> rd.count.get() >= EVENTS || rd.failure.get() != null);
                rd.opened.close();
                assertEquals(null, rd.failure.get());
                assertEquals(published, rd.ids, "healthy reader got every event, in order");
            }
            JsonPath end = given().get("/api/sse/connections?userId=stalled").jsonPath();
            boolean connected = end.getInt("total") == 1;
            return new Result(maxQueued, connected ? end.getLong("connections[0].eventsDropped") : maxDropped, connected);
        }
    }

    record Result(int maxQueued, long dropped, boolean stalledConnected) {
    }

    static final class Reader {
        final Api.Opened opened;
        final List<String> ids = java.util.Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger count = new AtomicInteger();
        final AtomicReference<String> failure = new AtomicReference<>();

        Reader(Api.Opened o) {
            this.opened = o;
            Thread t = new Thread(() -> {
                while (count.get() < EVENTS) {
                    SseClient.Frame f = o.client().next(Duration.ofSeconds(30));
                    if (f == null) {
                        failure.set("no frame for 30 s after " + count.get() + (o.client().ended() ? " (stream ended)" : ""));
                        return;
                    }
                    if ("bulk".equals(f.event())) {
                        ids.add(f.id());
                        count.incrementAndGet();
                    }
                }
            }, "reader-" + o.clientId());
            t.setDaemon(true);
            t.start();
        }
    }
}
