package dev.ssehub.api;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.jboss.resteasy.reactive.RestQuery;

import com.fasterxml.jackson.annotation.JsonInclude;

import dev.ssehub.hub.Hub;
import dev.ssehub.observability.StatsFeed;
import dev.ssehub.security.Caller;
import io.quarkus.runtime.annotations.RegisterForReflection;

/** {@code GET /api/sse/stats}. */
@Path("/api/sse/stats")
public class StatsResource {

    @Inject
    Hub hub;
    @Inject
    StatsFeed feed;
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
    @Tag(name = "management")
    @Operation(operationId = "stats", summary = "Figures of this instance", description = "A stream opened with "
            + "`stats=true` receives the same figures as `event: stats` when they change, instead of polling this.")
    @APIResponse(responseCode = "200", description = "The figures.",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = StatsView.class)))
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @APIResponse(responseCode = "401", ref = "Unauthorized")
    @APIResponse(responseCode = "500", ref = "InternalError")
    public StatsView stats(@Parameter(description = "With authentication off, or for an `sse-admin`: the answer includes "
            + "`userConnections`, this user's open streams. Any other token gets its own user's count.",
            schema = @Schema(type = SchemaType.STRING, pattern = ApiDescription.NAME_PATTERN)) @RestQuery String userId) {
        String user = Requests.optionalName(userId, "userId");
        Caller caller = access.caller();
        if (caller.authenticated() && (!caller.admin() || user == null)) {
            user = caller.userId();
        }
        StatsFeed.Figures f = feed.figures();
        return new StatsView(f.activeConnections(), f.activeUsers(), f.totalConnections(), f.eventsPublished(),
                f.eventsDelivered(), f.eventsDropped(), f.deliveryErrors(), f.replayBufferSize(), f.uptimeSeconds(),
                f.instanceId(), user == null ? null : hub.registry().connectionsOfUser(user));
    }
}
