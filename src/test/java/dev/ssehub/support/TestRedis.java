package dev.ssehub.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

import redis.embedded.RedisServer;

/**
 * A real redis-server (6.2.6, shipped by embedded-redis) on a free loopback port, started by the test
 * itself: nothing to install, no Docker. Persistent (an append-only file synced on every write, so a
 * stop and start keeps every acknowledged entry) or not (a restart loses everything, as a Redis
 * without persistence does).
 */
public final class TestRedis implements AutoCloseable {

    private final int port;
    private final boolean persistent;
    private final Path dir;
    private RedisServer server;

    private TestRedis(int port, boolean persistent, Path dir) {
        this.port = port;
        this.persistent = persistent;
        this.dir = dir;
    }

    public static TestRedis start(boolean persistent) {
        try {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            TestRedis r = new TestRedis(port, persistent, Files.createTempDirectory("sse-redis-"));
            r.start();
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts (again) on the same port and directory. */
    public void start() throws IOException {
        server = RedisServer.newRedisServer().port(port).bind("127.0.0.1")
                .setting("dir " + dir)
                .setting(persistent ? "appendonly yes" : "appendonly no")
                .setting("appendfsync always")
                .setting("save \"\"")
                .build();
        server.start();
    }

    public void stop() throws IOException {
        server.stop();
    }

    public int port() {
        return port;
    }

    /** The value of {@code quarkus.redis.hosts}. */
    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    @Override
    public void close() throws IOException {
        if (server != null && server.isActive()) {
            server.stop();
        }
    }
}
