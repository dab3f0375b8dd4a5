package dev.ssehub.observability;

import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

import dev.ssehub.lifecycle.Heartbeats;

/** Live while the heartbeat tick runs: a stuck scheduler means streams silently die behind proxies. */
@Liveness
@ApplicationScoped
public class HeartbeatLiveness implements HealthCheck {

    @Inject
    Heartbeats heartbeats;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("sse-heartbeats")
                .status(heartbeats.ticking())
                .withData("millisSinceLastTick", TimeUnit.NANOSECONDS.toMillis(heartbeats.nanosSinceLastTick()))
                .build();
    }
}
