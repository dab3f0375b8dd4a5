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
import dev.ssehub.security.Caller;
import io.quarkus.runtime.annotations.RegisterForReflection;

/** {@code GET /api/sse/stats}. */
@Path("/api/sse/stats")
public class StatsResource {

    @Inject
    Hub hub;
    @Inject
    SseMetrics metrics;
    @Inject
    Access access;

    @RegisterForReflection
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record StatsView(int activeConnections, int activeUsers, long totalConnections, long eventsPublished,
            long eventsDelivered, long eventsDropped, long deliveryErrors, int replayBufferSize, long uptimeSeconds,
            String instanceId, Integer userConnections) {
    }

    /**
     * The instance's figures, and {@code userConnections}: the streams of the user named by {@code userId}
     * (authentication off, or an {@code sse-admin}), or of the caller's own user (any other token; then
     * {@code userId} is ignored).
     */
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public StatsView stats(@RestQuery String userId) {
        String user = Requests.optionalName(userId, "userId");
        Caller caller = access.caller();
        if (caller.authenticated() && (!caller.admin() || user == null)) {
            user = caller.userId();
        }
        return new StatsView(hub.registry().size(), hub.registry().users(), metrics.totalConnections(),
                metrics.eventsPublished(), metrics.eventsDelivered(), metrics.eventsDropped(), metrics.deliveryErrors(),
                hub.replayBufferSize(), hub.uptimeSeconds(), hub.instanceId(),
                user == null ? null : hub.registry().connectionsOfUser(user));
    }
}
