package dev.ssehub.api;

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
    public record Published(String id, String type, int delivered, String timestamp, Boolean duplicate) {
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
    public CompletionStage<Response> publish(@RestHeader("Content-Type") String contentType, byte[] body) {
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
    public CompletionStage<Response> batch(@RestHeader("Content-Type") String contentType, byte[] body) {
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
