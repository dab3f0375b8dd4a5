package dev.ssehub.backplane;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ssehub.hub.Backplane;
import dev.ssehub.support.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;

/**
 * The backplane contract on {@link RedisBackplane}, against a real redis-server the test starts (persistent:
 * a stop and start keeps every acknowledged entry; {@link #startServer} with {@code keepData=false} starts
 * it empty, as a Redis without persistence comes back). Each instance has its own Vert.x Redis client, as
 * each service process has; each test is a cluster of its own (a key prefix of its own).
 */
class RedisBackplaneTest extends BackplaneContractTest {

    private static final AtomicInteger CLUSTERS = new AtomicInteger();
    private static TestRedis server;
    private static Vertx vertx;

    private final List<Redis> clients = new ArrayList<>();
    private String prefix;

    @BeforeAll
    static void startRedis() {
        server = TestRedis.start(true);
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stopRedis() throws IOException {
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().join();
        }
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void newCluster() {
        prefix = "contract" + CLUSTERS.incrementAndGet();
    }

    @AfterEach
    void closeClients() {
        stopInstances();
        clients.forEach(Redis::close);
        clients.clear();
    }

    @Override
    protected Backplane newInstance(int historySize, Duration keyWindow) {
        Redis client = Redis.createClient(vertx, new RedisOptions().setConnectionString(server.url()));
        clients.add(client);
        return new RedisBackplane(client, vertx, new ObjectMapper(), prefix, historySize, keyWindow,
                Duration.ofMillis(500));
    }

    @Override
    protected boolean clustered() {
        return true;
    }

    @Override
    protected boolean stopServer() throws IOException {
        server.stop();
        return true;
    }

    @Override
    protected void startServer(boolean keepData) throws IOException {
        if (!keepData) {
            server.deleteData();
        }
        server.start();
    }

    @Test
    @Override
    void aRefusedPublishIsNeverDeliveredAndDeliveryResumesFromTheCursorAfterAnOutage() throws Exception {
        super.aRefusedPublishIsNeverDeliveredAndDeliveryResumesFromTheCursorAfterAnOutage();
    }

    @Test
    @Override
    void aBackplaneThatLostItsDataRestartsTheHistoryBeforeTheNextEvent() throws Exception {
        super.aBackplaneThatLostItsDataRestartsTheHistoryBeforeTheNextEvent();
    }
}
