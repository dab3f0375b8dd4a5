package dev.ssehub.api;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.RestHeader;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ssehub.config.SseConfig;
import dev.ssehub.hub.Backplane;
import dev.ssehub.hub.Connection;
import dev.ssehub.hub.Event;
import dev.ssehub.hub.Hub;
import dev.ssehub.observability.SseMetrics;
import dev.ssehub.security.Caller;
import dev.ssehub.security.Limits;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.smallrye.common.annotation.NonBlocking;

/** {@code POST /api/sse/events} and {@code /api/sse/events/batch}: publishing. */
@Path("/api/sse/events")
public class EventsResource {

    static final int MAX_BATCH = Connection.MAX_BURST;

    @Inject
    Hub hub;
    @Inject
    ObjectMapper mapper;
    @Inject
    SseConfig config;
    @Inject
    Access access;
    @Inject
    Limits limits;
    @Inject
    SseMetrics metrics;

    /** The answer to a publish: the id on the wire, the connections it was queued to, and when. */
    @RegisterForReflection
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "Published", requiredProperties = { "id", "type", "delivered", "timestamp" })
    public record Published(
            @Schema(pattern = ApiDescription.ID_PATTERN, description = "The event id on the wire (`id:` line).") String id,
            @Schema(pattern = ApiDescription.TYPE_PATTERN) String type,
            @Schema(minimum = "0", description = "Streams of this instance the event was queued to (after target and "
                    + "type filters); 0 for a duplicate.") int delivered,
            @Schema(format = "date-time", description = "When the event was published (ISO-8601, UTC).") String timestamp,
            @Schema(description = "Present (true) only for a repeated idempotency key; the fields are then the "
                    + "earlier event's.") Boolean duplicate) {
        static Published of(Backplane.Published p) {
            return new Published(p.id().toString(), p.type(), p.delivered(), p.timestamp().toString(),
                    p.duplicate() ? Boolean.TRUE : null);
        }
    }

    // Publishing waits for the backplane without blocking a thread, and delivery only queues bytes (writes
    // happen on each stream's event loop), so it runs on the event loop too.
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @NonBlocking
    @Tag(name = "publish")
    @Operation(operationId = "publishEvent", summary = "Publish one event", description = "Queues the event to every "
            + "matching stream of this instance and appends it to the replay log. With an `id` (idempotency key) still "
            + "in the replay window, nothing is published and the answer is the earlier event with `delivered: 0` and "
            + "`duplicate: true`. Needs `sse-publisher` with authentication on.")
    @APIResponse(responseCode = "202", description = "Published (or a duplicate of an earlier publish).",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Published.class)))
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @APIResponse(responseCode = "401", ref = "Unauthorized")
    @APIResponse(responseCode = "403", ref = "Forbidden")
    @APIResponse(responseCode = "413", ref = "EventTooLarge")
    @APIResponse(responseCode = "415", ref = "UnsupportedMediaType")
    @APIResponse(responseCode = "429", ref = "RateLimited")
    @APIResponse(responseCode = "500", ref = "InternalError")
    @APIResponse(responseCode = "503", ref = "BackplaneUnavailable")
    public CompletionStage<Response> publish(@Parameter(hidden = true) @RestHeader("Content-Type") String contentType, @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = ApiDescription.EventRequest.class))) byte[] body) {
        Caller caller = access.publisher();
        Requests.requireJson(contentType);
        JsonBodies.Events events = JsonBodies.events(mapper, body, false);
        Event.Draft draft = Requests.draft(events.tree(), events.data().isEmpty() ? null : events.data().get(0), "",
                config.maxEventBytes());
        allow(caller, 1);
        return hub.publish(List.of(draft)).thenApply(r -> Response.accepted(Published.of(r.get(0))).build());
    }

    /** Validates the whole batch first (nothing is published if any entry is bad), then publishes in order. */
    @POST
    @Path("/batch")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @NonBlocking
    @Tag(name = "publish")
    @Operation(operationId = "publishBatch", summary = "Publish several events, in order", description = "The whole "
            + "batch is validated first: if any entry is invalid nothing is published and the error names the entry "
            + "(`[3].type`). Then the events are published in array order; the answer holds one result per entry.")
    @APIResponse(responseCode = "202", description = "One result per event, in request order.",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(type = SchemaType.ARRAY,
                    maxItems = MAX_BATCH, implementation = Published.class)))
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @APIResponse(responseCode = "401", ref = "Unauthorized")
    @APIResponse(responseCode = "403", ref = "Forbidden")
    @APIResponse(responseCode = "413", ref = "EventTooLarge")
    @APIResponse(responseCode = "415", ref = "UnsupportedMediaType")
    @APIResponse(responseCode = "429", ref = "RateLimited")
    @APIResponse(responseCode = "500", ref = "InternalError")
    @APIResponse(responseCode = "503", ref = "BackplaneUnavailable")
    public CompletionStage<Response> batch(@Parameter(hidden = true) @RestHeader("Content-Type") String contentType, @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(type = SchemaType.ARRAY, maxItems = MAX_BATCH,
                    implementation = ApiDescription.EventRequest.class))) byte[] body) {
        Caller caller = access.publisher();
        Requests.requireJson(contentType);
        JsonBodies.Events events = JsonBodies.events(mapper, body, true);
        JsonNode node = events.tree();
        if (!node.isArray()) {
            throw ApiException.badRequest("Expected a JSON array of events");
        }
        if (node.size() > MAX_BATCH) {
            throw ApiException.badRequest("A batch holds at most " + MAX_BATCH + " events; got " + node.size());
        }
        List<Event.Draft> drafts = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            drafts.add(Requests.draft(node.get(i), events.data().get(i), "[" + i + "].", config.maxEventBytes()));
        }
        allow(caller, drafts.size());
        if (drafts.isEmpty()) {
            return CompletableFuture.completedFuture(Response.accepted(List.of()).build());
        }
        return hub.publish(drafts).thenApply(r -> Response.accepted(r.stream().map(Published::of).toList()).build());
    }

    /**
     * The publisher's rate limit (sse.publish.rate, sse.publish.burst): {@code events} tokens from its bucket,
     * or 429 with the bucket's refill time as Retry-After; nothing of the request is published then.
     */
    private void allow(Caller caller, int events) {
        long wait = limits.publish().acquire(caller.principal(), events, System.nanoTime());
        if (wait == 0) {
            return;
        }
        if (wait == Long.MAX_VALUE) {
            throw ApiException.badRequest("A batch of " + events + " events is more than a publisher may send at once ("
                    + config.publish().burst() + ", sse.publish.burst); split it");
        }
        metrics.rejected(SseMetrics.RequestRejection.RATE);
        throw new ApiException(429, "rate-limited", "Too many events",
                "This publisher is over its rate limit (sse.publish.rate " + config.publish().rate()
                        + " events per second, sse.publish.burst " + config.publish().burst() + "); nothing was published",
                Limit.retryAfterSeconds(wait));
    }
}
