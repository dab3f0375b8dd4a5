package dev.ssehub.observability;

import jakarta.inject.Singleton;

import dev.ssehub.transport.HttpGuard;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;

/** The connection guard's figures as {@code sse_http_*} meters (reasons are enums, never client values). */
@Singleton
@Startup
public class HttpGuardMetrics {

    public HttpGuardMetrics(MeterRegistry registry, HttpGuard guard) {
        Gauge.builder("sse.http.connections.pending", guard, HttpGuard::pendingConnections)
                .description("HTTP connections that carry no stream (waiting for a request, reading or answering one, idle)")
                .register(registry);
        Gauge.builder("sse.http.body.bytes", guard, HttpGuard::bodyBytes)
                .description("Bytes of request bodies being read, by their declared length (budget: sse.http.body-total-bytes)")
                .register(registry);
        for (HttpGuard.Refused r : HttpGuard.Refused.values()) {
            FunctionCounter.builder("sse.http.connections.refused", guard, g -> g.refused(r)).tag("reason", r.label())
                    .description("HTTP connections (or their requests) refused at a limit of the HTTP layer, by reason")
                    .register(registry);
        }
        for (HttpGuard.Closed c : HttpGuard.Closed.values()) {
            FunctionCounter.builder("sse.http.connections.closed", guard, g -> g.closed(c)).tag("reason", c.label())
                    .description("HTTP connections closed by the guard, by reason").register(registry);
        }
    }
}
