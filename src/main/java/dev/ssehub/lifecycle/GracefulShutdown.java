package dev.ssehub.lifecycle;

import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import dev.ssehub.config.SseConfig;
import dev.ssehub.hub.CloseReason;
import dev.ssehub.hub.Connection;
import dev.ssehub.hub.ConnectionRegistry;
import dev.ssehub.hub.Hub;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.ShutdownEvent;

/**
 * SIGTERM: Quarkus's pre-shutdown delay ({@code quarkus.shutdown.delay}, set to {@code sse.shutdown.drain})
 * turns readiness DOWN at once while the server keeps working; during it we close the streams one by
 * one, spread evenly over {@code sse.shutdown.drain}, so their clients reconnect (to other replicas)
 * spread out instead of all at once, and resume from their Last-Event-ID. Heartbeats go on meanwhile.
 * Streams opened during the drain are closed by the sweep too; the last ones at the final shutdown.
 *
 * <p>Signals are Quarkus's own business (the native image relies on it too): the JVM then ends with the
 * status of a SIGTERM (143), which nothing in Kubernetes reads.
 */
@ApplicationScoped
public class GracefulShutdown {

    private static final Logger LOG = Logger.getLogger(GracefulShutdown.class);

    @Inject
    Hub hub;
    @Inject
    ConnectionRegistry registry;
    @Inject
    SseConfig config;

    private volatile Thread drainer;

    void onPreShutdown(@Observes ShutdownDelayInitiatedEvent event) {
        Thread t = new Thread(this::drain, "sse-shutdown-drain");
        t.setDaemon(true);
        drainer = t;
        t.start();
    }

    private void drain() {
        long drainNanos = config.shutdown().drain().toNanos();
        List<Connection> open = new ArrayList<>(registry.all());
        int n = open.size();
        LOG.infof("Shutting down: readiness is DOWN; closing %d streams over %s", n, config.shutdown().drain());
        long start = System.nanoTime();
        try {
            for (int i = 0; i < n; i++) {
                // Close the i-th stream at (i+1)/(n+1) of the drain: evenly spread, none at the very start
                // (load balancers first see readiness DOWN), the last one before the drain ends.
                long due = start + drainNanos * (i + 1) / (n + 1);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                open.get(i).close(CloseReason.SHUTDOWN);
            }
            while (!Thread.currentThread().isInterrupted()) {
                // Latecomers (clients that reconnected here during the drain) go too.
                hub.closeAll(CloseReason.SHUTDOWN);
                Thread.sleep(100);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void onShutdown(@Observes ShutdownEvent event) {
        Thread t = drainer;
        if (t != null) {
            t.interrupt();
        }
        int left = hub.closeAll(CloseReason.SHUTDOWN);
        if (left > 0) {
            LOG.infof("Shutdown: closed the last %d streams", left);
        }
    }
}
