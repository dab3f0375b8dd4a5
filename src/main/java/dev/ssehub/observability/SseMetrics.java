package dev.ssehub.observability;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import jakarta.inject.Singleton;

import dev.ssehub.hub.Backplane;
import dev.ssehub.hub.CloseReason;
import dev.ssehub.hub.ConnectionRegistry;
import dev.ssehub.hub.DeliveryError;
import dev.ssehub.hub.DropReason;
import dev.ssehub.hub.HubSettings;
import dev.ssehub.hub.HubListener;
import dev.ssehub.transport.StreamTransport;
import dev.ssehub.transport.WritePath;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The service's counters in one place: the {@code sse_*} Prometheus meters and the figures of
 * {@code GET /api/sse/stats}. The hub reports through {@link HubListener}; the transport's figures are
 * read from {@link StreamTransport}. Hot-path counts are {@link LongAdder}s read by function counters; no
 * label takes a user-supplied value (reasons and paths are enums).
 */
@Singleton
public class SseMetrics implements HubListener {

    /** Why an API request was refused by the security layer; the {@code reason} label of {@code sse_rejected_total}. */
    public enum RequestRejection {
        /** A publisher over {@code sse.publish.rate} / {@code sse.publish.burst} (429). */
        RATE("rate"),
        /** No valid token (401). */
        UNAUTHENTICATED("unauthenticated"),
        /** A valid token that does not allow the request: role, another user's stream, topic (403). */
        FORBIDDEN("forbidden");

        private final String label;

        RequestRejection(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** The {@code reason} of {@code sse_connections_rejected_total} for stream opens over {@code sse.connect.rate}. */
    public static final String CONNECT_RATE = "connect_rate";

    private final LongAdder opened = new LongAdder();
    private final LongAdder published = new LongAdder();
    private final LongAdder delivered = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder serverSideErrors = new LongAdder();
    private final LongAdder replayed = new LongAdder();
    private final LongAdder heartbeats = new LongAdder();
    private final Map<CloseReason, Counter> closed = new EnumMap<>(CloseReason.class);
    private final Map<ConnectionRegistry.Rejection, Counter> rejected = new EnumMap<>(ConnectionRegistry.Rejection.class);
    private final Map<DropReason, Counter> droppedBy = new EnumMap<>(DropReason.class);
    private final Map<DeliveryError, Counter> errorsBy = new EnumMap<>(DeliveryError.class);
    private final Map<RequestRejection, Counter> requestsRejected = new EnumMap<>(RequestRejection.class);
    private final Counter connectRate;
    private final Timer latency;
    private final Timer backplaneLatency;

    public SseMetrics(MeterRegistry registry, ConnectionRegistry connections, Backplane backplane,
            StreamTransport transport, HubSettings settings) {
        Gauge.builder("sse.connections.active", connections, ConnectionRegistry::size)
                .description("Open SSE streams on this instance").register(registry);
        Gauge.builder("sse.connections.max", settings, HubSettings::maxClients)
                .description("Streams this instance holds at most (sse.max-clients)").register(registry);

        for (WritePath p : WritePath.values()) {
            Gauge.builder("sse.streams", transport, t -> t.streams(p)).tag("path", p.label())
                    .description("Open SSE streams by write path (socket, below_encoder, vertx)").register(registry);
        }
        for (StreamTransport.Fallback f : StreamTransport.Fallback.values()) {
            FunctionCounter.builder("sse.raw.write.fallbacks", transport, t -> t.fallbacks(f)).tag("reason", f.label())
                    .description("Raw stream writes that went through the Vert.x response instead, by reason")
                    .register(registry);
        }
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
        connectRate = Counter.builder("sse.connections.rejected").tag("reason", CONNECT_RATE)
                .description("SSE streams refused at a limit, by reason").register(registry);
        for (RequestRejection r : RequestRejection.values()) {
            requestsRejected.put(r, Counter.builder("sse.rejected").tag("reason", r.label())
                    .description("API requests refused: rate (publish rate limit), unauthenticated (401), forbidden (403)")
                    .register(registry));
        }
        FunctionCounter.builder("sse.events.published", published, LongAdder::doubleValue)
                .description("Events accepted for publishing").register(registry);
        FunctionCounter.builder("sse.events.delivered", delivered, LongAdder::doubleValue)
                .description("Events written to a stream (one per event and stream)").register(registry);
        for (DropReason r : DropReason.values()) {
            droppedBy.put(r, Counter.builder("sse.events.dropped").tag("reason", r.label())
                    .description("Events queued to a stream but not written to it, by reason").register(registry));
        }
        for (DeliveryError e : DeliveryError.values()) {
            errorsBy.put(e, Counter.builder("sse.delivery.errors").tag("reason", e.label())
                    .description("Failed stream writes, by kind (client_gone is a client leaving mid-write)")
                    .register(registry));
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
        Gauge.builder("sse.backplane.up", backplane, b -> b.isUp() ? 1 : 0)
                .description("1 while the backplane accepts events").register(registry);
        Gauge.builder("sse.backplane.lag.entries", backplane, Backplane::lagEntries)
                .description("Events the backplane accepted that this instance has not received yet").register(registry);
        FunctionCounter.builder("sse.backplane.reconnects", backplane, Backplane::reconnects)
                .description("Reconnections to the backplane after losing it").register(registry);
        backplaneLatency = Timer.builder("sse.backplane.latency")
                .description("Publish (accepted by the backplane) to receipt on this instance")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(30))
                .register(registry);
    }

    @Override
    public void opened() {
        opened.increment();
    }

    @Override
    public void closed(CloseReason reason) {
        closed.get(reason).increment();
    }

    @Override
    public void rejected(ConnectionRegistry.Rejection reason) {
        rejected.get(reason).increment();
    }

    /** A request refused by the security layer (401, 403, publish rate). */
    public void rejected(RequestRejection reason) {
        requestsRejected.get(reason).increment();
    }

    /** A stream open refused over {@code sse.connect.rate}. */
    public void connectRateRejected() {
        connectRate.increment();
    }

    @Override
    public void published(long backplaneLatencyMillis) {
        published.increment();
        backplaneLatency.record(backplaneLatencyMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void delivered(int events, int replayedEvents, long oldestPublishedNanos) {
        delivered.add(events);
        if (replayedEvents > 0) {
            replayed.add(replayedEvents);
        }
        if (oldestPublishedNanos != 0) {
            latency.record(System.nanoTime() - oldestPublishedNanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void dropped(DropReason reason, int events) {
        dropped.add(events);
        droppedBy.get(reason).increment(events);
    }

    @Override
    public void deliveryError(DeliveryError kind) {
        errorsBy.get(kind).increment();
        if (kind.serverSide()) {
            serverSideErrors.increment();
        }
    }

    @Override
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

    /** Failed writes whose cause is on the service's side (not a client going away). */
    public long deliveryErrors() {
        return serverSideErrors.sum();
    }

    /** Zeroes the figures of {@code /api/sse/stats} (dev reset); Prometheus counters then restart from 0. */
    public void resetStats() {
        opened.reset();
        published.reset();
        delivered.reset();
        dropped.reset();
        serverSideErrors.reset();
        replayed.reset();
        heartbeats.reset();
    }
}
