package dev.ssehub.observability;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

import jakarta.inject.Singleton;

import dev.ssehub.hub.CloseReason;
import dev.ssehub.hub.ConnectionRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The service's counters in one place: the {@code sse_*} Prometheus meters of DESIGN.md and the
 * figures of {@code GET /api/sse/stats}. Hot-path counts are {@link LongAdder}s read by function
 * counters; no label takes a user-supplied value (reasons are enums).
 */
@Singleton
public class SseMetrics {

    /** Why an event did not reach a connection it was queued to; the {@code reason} label of sse_events_dropped_total. */
    public enum DropReason {
        /** Pushed out of a full outbox under {@code sse.slow-consumer=drop-oldest}. */
        SLOW_CONSUMER("slow_consumer"),
        /** Still queued when its connection closed (a resuming client replays it). */
        CONNECTION_CLOSED("connection_closed");

        final String label;

        DropReason(String label) {
            this.label = label;
        }
    }

    private final LongAdder opened = new LongAdder();
    private final LongAdder published = new LongAdder();
    private final LongAdder delivered = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder deliveryErrors = new LongAdder();
    private final LongAdder replayed = new LongAdder();
    private final LongAdder heartbeats = new LongAdder();
    private final Map<CloseReason, Counter> closed = new EnumMap<>(CloseReason.class);
    private final Map<ConnectionRegistry.Rejection, Counter> rejected = new EnumMap<>(ConnectionRegistry.Rejection.class);
    private final Map<DropReason, Counter> droppedBy = new EnumMap<>(DropReason.class);
    private final Timer latency;
    private final MeterRegistry registry;

    public SseMetrics(MeterRegistry registry, ConnectionRegistry connections) {
        this.registry = registry;
        Gauge.builder("sse.connections.active", connections, ConnectionRegistry::size)
                .description("Open SSE streams on this instance").register(registry);
        FunctionCounter.builder("sse.connections.opened", opened, LongAdder::doubleValue)
                .description("SSE streams opened").register(registry);
        for (CloseReason r : CloseReason.values()) {
            closed.put(r, Counter.builder("sse.connections.closed").tag("reason", r.label())
                    .description("SSE streams closed, by reason").register(registry));
        }
        for (ConnectionRegistry.Rejection r : ConnectionRegistry.Rejection.values()) {
            rejected.put(r, Counter.builder("sse.connections.rejected").tag("reason", r.label())
                    .description("SSE streams refused at a limit, by reason").register(registry));
        }
        FunctionCounter.builder("sse.events.published", published, LongAdder::doubleValue)
                .description("Events accepted for publishing").register(registry);
        FunctionCounter.builder("sse.events.delivered", delivered, LongAdder::doubleValue)
                .description("Events written to a stream (one per event and stream)").register(registry);
        for (DropReason r : DropReason.values()) {
            droppedBy.put(r, Counter.builder("sse.events.dropped").tag("reason", r.label)
                    .description("Events queued to a stream but not written to it, by reason").register(registry));
        }
        latency = Timer.builder("sse.delivery.latency")
                .description("Publish to write completion, for the oldest event of each write")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(30))
                .register(registry);
        FunctionCounter.builder("sse.replayed.events", replayed, LongAdder::doubleValue)
                .description("Events written from the replay log to resuming streams").register(registry);
        FunctionCounter.builder("sse.heartbeats.sent", heartbeats, LongAdder::doubleValue)
                .description("Heartbeats queued to streams").register(registry);
    }

    /** Registers {@code sse_backplane_up}: 1 while the backplane accepts events, else 0. */
    public void backplaneUp(Supplier<Boolean> up) {
        // Strong reference: Micrometer holds gauge objects weakly, and nothing else holds this lambda.
        Gauge.builder("sse.backplane.up", up, s -> s.get() ? 1 : 0).strongReference(true)
                .description("1 while the backplane accepts events").register(registry);
    }

    public void opened() {
        opened.increment();
    }

    public void closed(CloseReason reason) {
        closed.get(reason).increment();
    }

    public void rejected(ConnectionRegistry.Rejection reason) {
        rejected.get(reason).increment();
    }

    public void published() {
        published.increment();
    }

    /** Events written to a stream; {@code oldestPublishedNanos} is 0 for a replay write (no live latency). */
    public void delivered(int events, long oldestPublishedNanos, long nowNanos) {
        delivered.add(events);
        if (oldestPublishedNanos != 0) {
            latency.record(nowNanos - oldestPublishedNanos, TimeUnit.NANOSECONDS);
        }
    }

    public void replayed(int events) {
        replayed.add(events);
    }

    public void dropped(DropReason reason, int events) {
        dropped.add(events);
        droppedBy.get(reason).increment(events);
    }

    public void deliveryError() {
        deliveryErrors.increment();
    }

    public void heartbeats(int n) {
        heartbeats.add(n);
    }

    public long totalConnections() {
        return opened.sum();
    }

    public long eventsPublished() {
        return published.sum();
    }

    public long eventsDelivered() {
        return delivered.sum();
    }

    public long eventsDropped() {
        return dropped.sum();
    }

    public long deliveryErrors() {
        return deliveryErrors.sum();
    }

    public long heartbeatsSent() {
        return heartbeats.sum();
    }

    /** Zeroes the figures of {@code /api/sse/stats} (dev reset); Prometheus counters then restart from 0. */
    public void resetStats() {
        opened.reset();
        published.reset();
        delivered.reset();
        dropped.reset();
        deliveryErrors.reset();
        replayed.reset();
        heartbeats.reset();
    }
}
