package dev.ssehub.api;

import java.util.ArrayList;
import java.util.List;

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
import dev.ssehub.hub.Connection;
import dev.ssehub.hub.Event;
import dev.ssehub.hub.Hub;
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

    /** The answer to a publish: the id on the wire, the connections it was queued to, and when. */
    @RegisterForReflection
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Published(String id, String type, int delivered, String timestamp, Boolean duplicate) {
        static Published of(Hub.PublishResult r) {
            Event e = r.event();
            return new Published(e.id().toString(), e.type(), r.delivered(), e.timestamp().toString(),
                    r.duplicate() ? Boolean.TRUE : null);
        }
    }

    // Publishing only queues bytes (writes happen on each stream's event loop), so it runs on the event loop too.
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @NonBlocking
    public Response publish(@RestHeader("Content-Type") String contentType, byte[] body) {
        Requests.requireJson(contentType);
        JsonBodies.Events events = JsonBodies.events(mapper, body, false);
        Event.Draft draft = Requests.draft(events.tree(), events.data().isEmpty() ? null : events.data().get(0), "",
                config.maxEventBytes());
        return Response.accepted(Published.of(hub.publish(draft))).build();
    }

    /** Validates the whole batch first (nothing is published if any entry is bad), then publishes in order. */
    @POST
    @Path("/batch")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @NonBlocking
    public Response batch(@RestHeader("Content-Type") String contentType, byte[] body) {
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
        List<Published> out = new ArrayList<>(drafts.size());
        for (Event.Draft d : drafts) {
            out.add(Published.of(hub.publish(d)));
        }
        return Response.accepted(out).build();
    }
}
