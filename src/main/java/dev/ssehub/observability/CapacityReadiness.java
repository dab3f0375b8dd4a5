package dev.ssehub.observability;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import dev.ssehub.hub.Backplane;
import dev.ssehub.config.SseConfig;
import dev.ssehub.hub.ConnectionRegistry;

/**
 * Ready while this instance can take another stream and accept events: below {@code sse.max-clients}
 * and with its backplane up. Reports the figures, and why the backplane is down, so an operator sees it.
 */
@Readiness
@ApplicationScoped
public class CapacityReadiness implements HealthCheck {

    @Inject
    ConnectionRegistry registry;
    @Inject
    SseConfig config;
    @Inject
    Backplane backplane;

    @Override
    public HealthCheckResponse call() {
        int active = registry.size();
        int max = config.maxClients();
        return HealthCheckResponse.named("sse-capacity")
                .status(active < max && backplane.isUp())
                .withData("activeConnections", active)
                .withData("maxClients", max)
                .withData("backplane", backplane.name())
                .withData("backplaneUp", backplane.isUp())
                .withData("backplaneStatus", backplane.status())
                .build();
    }
}
