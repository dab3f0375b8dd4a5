package dev.ssehub.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.inject.Inject;
import jakarta.ws.rs.sse.SseBroadcaster;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.hub.ConnectionRegistry;
import dev.ssehub.support.Api;
import dev.ssehub.transport.SinkTracker;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Churn: many clients vanish abruptly (socket closed, half of them with a TCP reset) and nothing is left
 * behind in the registry, its indexes, the tracked sinks, the broadcaster or the metrics
 * (quarkusio/quarkus#23997, #30681, #8858).
 */
@QuarkusTest
class ChurnTest {

    @Inject
    ConnectionRegistry registry;
    @Inject
    SinkTracker sinks;
    @Inject
    SseBroadcaster broadcaster;

    @BeforeEach
    void reset() {
        Api.reset();
    }

    @Test
    void fiveHundredAbruptDisconnectsLeaveNothingBehind() throws Exception {
        int port = Integer.getInteger("quarkus.http.test-port", 8081);
        AtomicInteger established = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(25);
        try {
            List<Future<?>> tasks = new java.util.ArrayList<>();
            for (int i = 0; i < 500; i++) {
                final int n = i;
                tasks.add(pool.submit(() -> {
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                        s.setSoTimeout(5000);
                        OutputStream out = s.getOutputStream();
                        out.write(("GET /api/sse/stream?userId=churn" + (n % 100) / 5 + "&topic=t" + (n % 7)
                                + "&sessionId=s" + n + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                        String line;
                        while ((line = in.readLine()) != null) {
                            if (line.contains("connection_established")) {
                                established.incrementAndGet();
                                break;
                            }
                        }
                        if (n % 2 == 0) {
                            s.setSoLinger(true, 0); // close with RST
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : tasks) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(500, established.get(), "every client got its first frame");

        Api.eventually(Duration.ofSeconds(10), "registry empty", () -> registry.size() == 0);
        Api.eventually(Duration.ofSeconds(10), "indexes empty", () -> registry.indexKeys() == 0);
        Api.eventually(Duration.ofSeconds(10), "sinks untracked", () -> sinks.size() == 0);
        Api.eventually(Duration.ofSeconds(10), "broadcaster empty", () -> broadcasterSinks() == 0);
        assertEquals(0.0, Api.metric("sse_connections_active"));
        assertEquals(0, Api.activeConnections());
        assertTrue(Api.metric("sse_connections_closed_total{reason=\"client\"}") >= 500);

        try (Api.Opened fresh = Api.open("")) {
            assertEquals(1, Api.publish("{\"type\":\"after_churn\",\"data\":null}").getInt("delivered"));
            assertEquals("null", fresh.client().await("after_churn", Duration.ofSeconds(5)).data());
        }
    }

    /** The broadcaster's own sink list: it must not keep closed sinks (quarkusio/quarkus#30681). */
    private int broadcasterSinks() {
        try {
            Object target = broadcaster;
            // Unwrap the CDI client proxy if there is one.
            if (!target.getClass().getName().endsWith("SseBroadcasterImpl")) {
                target = ((io.quarkus.arc.ClientProxy) target).arc_contextualInstance();
            }
            Field f = target.getClass().getDeclaredField("sinks");
            f.setAccessible(true);
            synchronized (target) {
                return ((List<?>) f.get(target)).size();
            }
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot inspect the broadcaster", e);
        }
    }
}
