package dev.ssehub.observability;

import jakarta.inject.Singleton;

import dev.ssehub.hub.Hub;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;

/**
 * Where the memory that events take goes: the replay log and the stream outboxes, each against its
 * bound. Apart from {@link SseMetrics} because these read the hub, which reports to SseMetrics.
 */
@Startup
@Singleton
public class MemoryGauges {

    public MemoryGauges(MeterRegistry registry, Hub hub) {
        Gauge.builder("sse.outbox.bytes", hub, Hub::outboxBytes).baseUnit("bytes")
                .description("Bytes of distinct events waiting in stream outboxes (budget: sse.queue-total-bytes)")
                .register(registry);
        Gauge.builder("sse.replay.bytes", hub, Hub::replayBytes).baseUnit("bytes")
                .description("Wire bytes of the events in the replay log (bound: sse.replay.max-bytes)")
                .register(registry);
    }
}
