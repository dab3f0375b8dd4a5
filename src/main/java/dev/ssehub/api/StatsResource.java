package dev.ssehub.api;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.jboss.resteasy.reactive.RestQuery;

import com.fasterxml.jackson.annotation.JsonInclude;

import dev.ssehub.hub.Hub;
import io.quarkus.runtime.annotations.RegisterForReflection;

/** {@code GET /api/sse/stats}. */
@Path("/api/sse/stats")
public class StatsResource {

    @Inject
    Hub hub;

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
        Hub.Stats s = hub.stats();
        return new StatsView(s.activeConnections(), s.activeUsers(), s.totalConnections(), s.eventsPublished(),
                s.eventsDelivered(), s.eventsDropped(), s.deliveryErrors(), s.replayBufferSize(), s.uptimeSeconds(),
                s.instanceId(), user == null ? null : hub.registry().connectionsOfUser(user));
    }
}
