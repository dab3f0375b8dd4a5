package dev.ssehub.api;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.jboss.resteasy.reactive.RestQuery;

import com.fasterxml.jackson.annotation.JsonInclude;

import dev.ssehub.hub.Hub;
import dev.ssehub.observability.SseMetrics;
import io.quarkus.runtime.annotations.RegisterForReflection;

/** {@code GET /api/sse/stats}. */
@Path("/api/sse/stats")
public class StatsResource {

    @Inject
    Hub hub;
    @Inject
    SseMetrics metrics;

    @RegisterForReflection
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record StatsView(int activeConnections, int activeUsers, long totalConnections, long eventsPublished,
            long eventsDelivered, long eventsDropped, long deliveryErrors, int replayBufferSize, long uptimeSeconds,
            String instanceId, Integer userConnections) {
    }

    /** {@code userConnections} is the caller's stream count: with auth off, the user named by {@code userId}. */
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public StatsView stats(@RestQuery String userId) {
        String user = Requests.optionalName(userId, "userId");
        return new StatsView(hub.registry().size(), hub.registry().users(), metrics.totalConnections(),
                metrics.eventsPublished(), metrics.eventsDelivered(), metrics.eventsDropped(), metrics.deliveryErrors(),
                hub.replayBufferSize(), hub.uptimeSeconds(), hub.instanceId(),
                user == null ? null : hub.registry().connectionsOfUser(user));
    }
}
