package dev.ssehub.observability;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ssehub.hub.Connection;
import dev.ssehub.hub.Frame;
import dev.ssehub.hub.Hub;
import dev.ssehub.hub.WireFormat;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.quarkus.scheduler.Scheduled;

/**
 * The instance's figures ({@code GET /api/sse/stats}), and the {@code stats} control event that streams opened
 * with {@code stats=true} receive instead of polling them (the demo page's stats panel).
 *
 * <p>Once a second ({@link #INTERVAL}) the tick computes the figures, if any stream asked for them, and sends
 * an {@code event: stats} frame (no {@code id:} line, like the other control frames; it passes every topic and
 * type filter) to each such stream when the figures changed since the last tick, or when the stream has
 * not received them yet. {@code uptimeSeconds} alone does not count as a change. With no such stream the
 * tick does nothing but look at an empty map: publishing and delivery never see this feature.
 */
@ApplicationScoped
public class StatsFeed {

    /** At most one stats frame per stream per this period. */
    public static final String INTERVAL = "1s";

    @Inject
    Hub hub;
    @Inject
    SseMetrics metrics;
    @Inject
    ObjectMapper mapper;

    /** The streams that asked for the figures; the value: whether they hold the latest. */
    private final Map<Connection, Boolean> watchers = new ConcurrentHashMap<>();
    private Figures last;

    /** The figures of this instance (see docs/sse_api_usage.md, "GET /api/sse/stats"). */
    @RegisterForReflection
    public record Figures(int activeConnections, int activeUsers, long totalConnections, long eventsPublished,
            long eventsDelivered, long eventsDropped, long deliveryErrors, int replayBufferSize, long uptimeSeconds,
            String instanceId) {

        boolean sameAs(Figures o) {
            return o != null && activeConnections == o.activeConnections && activeUsers == o.activeUsers
                    && totalConnections == o.totalConnections && eventsPublished == o.eventsPublished
                    && eventsDelivered == o.eventsDelivered && eventsDropped == o.eventsDropped
                    && deliveryErrors == o.deliveryErrors && replayBufferSize == o.replayBufferSize
                    && instanceId.equals(o.instanceId);
        }
    }

    public Figures figures() {
        return new Figures(hub.registry().size(), hub.registry().users(), metrics.totalConnections(),
                metrics.eventsPublished(), metrics.eventsDelivered(), metrics.eventsDropped(), metrics.deliveryErrors(),
                hub.replayBufferSize(), hub.uptimeSeconds(), hub.instanceId());
    }

    /** This stream gets the figures from the next tick on, until it closes. */
    public void watch(Connection c) {
        watchers.put(c, Boolean.FALSE);
    }

    /** Streams receiving the figures (tests). */
    public int watching() {
        return watchers.size();
    }

    @Scheduled(identity = "sse-stats", every = INTERVAL, concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void tick() {
        if (watchers.isEmpty()) {
            return;
        }
        Figures now = figures();
        boolean changed = !now.sameAs(last);
        last = now;
        Frame frame = null;
        for (Map.Entry<Connection, Boolean> e : watchers.entrySet()) {
            Connection c = e.getKey();
            if (c.isClosed()) {
                watchers.remove(c);
            } else if (changed || !e.getValue()) {
                if (frame == null) {
                    frame = new Frame(WireFormat.control("stats", json(now)));
                }
                // A stream still replaying cannot take it yet: it gets the figures at a later tick.
                e.setValue(hub.offerControl(c, frame));
            }
        }
    }

    private String json(Figures f) {
        try {
            return mapper.writeValueAsString(f);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode the stats", e);
        }
    }
}
