package dev.ssehub.api;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;

import jakarta.inject.Inject;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.jboss.logging.Logger;

import dev.ssehub.config.SseConfig;
import dev.ssehub.hub.Event;
import dev.ssehub.hub.Hub;
import dev.ssehub.hub.Target;
import dev.ssehub.observability.SseMetrics;

/** Development helpers, enabled by {@code sse.dev-endpoints} (on in the dev and test profiles only). */
@Path("/api/sse")
public class DevResource {

    private static final Logger LOG = Logger.getLogger(DevResource.class);

    @Inject
    Hub hub;
    @Inject
    SseConfig config;
    @Inject
    SseMetrics metrics;
    @Inject
    Access access;

    /** Broadcasts a {@code generic_event} to every stream. */
    @POST
    @Path("/test-event")
    @Produces(MediaType.APPLICATION_JSON)
    public CompletionStage<Response> testEvent() {
        enabled();
        String data = "{\"message\":\"test event\",\"sentAt\":\"" + Instant.now() + "\"}";
        return hub.publish(List.of(new Event.Draft("generic_event", data, Target.BROADCAST, null)))
                .thenApply(r -> Response.accepted(EventsResource.Published.of(r.get(0))).build());
    }

    /** Closes every stream and clears the replay log and the statistics. */
    @POST
    @Path("/reset")
    public CompletionStage<Response> reset() {
        enabled();
        return hub.reset().thenApply(closed -> {
            metrics.resetStats();
            LOG.infof("Reset: closed %d streams, cleared the replay log, idempotency keys and statistics", closed);
            return Response.noContent().build();
        });
    }

    private void enabled() {
        if (!config.devEndpoints()) {
            throw ApiException.notFound("Development endpoints are off (sse.dev-endpoints=false)");
        }
        access.admin("A development endpoint");
    }
}
