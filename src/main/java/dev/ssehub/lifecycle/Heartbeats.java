package dev.ssehub.lifecycle;

import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import dev.ssehub.config.SseConfig;
import dev.ssehub.hub.Hub;
import io.quarkus.scheduler.Scheduled;

/**
 * The heartbeat tick, scheduled every {@code sse.heartbeat.interval} (the work is {@link Hub#heartbeat}). Quarkus REST sends nothing on an idle stream (quarkusio/quarkus#39862), and an
 * idle stream is cut by proxies and load balancers and never notices a vanished client; this tick
 * keeps every stream talking and finds the dead ones.
 */
@ApplicationScoped
public class Heartbeats {

    @Inject
    Hub hub;
    @Inject
    SseConfig config;

    private final AtomicLong lastTickNanos = new AtomicLong(System.nanoTime());

    @Scheduled(identity = "sse-heartbeat", every = "${sse.heartbeat.interval}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void tick() {
        hub.heartbeat();
        lastTickNanos.set(System.nanoTime());
    }

    /** Whether the tick ran within the last three intervals (liveness). */
    public boolean ticking() {
        long limit = 3 * config.heartbeat().interval().toNanos();
        return System.nanoTime() - lastTickNanos.get() <= limit;
    }

    public long nanosSinceLastTick() {
        return System.nanoTime() - lastTickNanos.get();
    }
}
