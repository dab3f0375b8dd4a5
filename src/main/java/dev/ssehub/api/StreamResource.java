package dev.ssehub.api;

import java.util.List;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HEAD;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.sse.SseEventSink;

import org.jboss.resteasy.reactive.RestHeader;
import org.jboss.resteasy.reactive.RestQuery;
import org.jboss.resteasy.reactive.RestStreamElementType;

import dev.ssehub.config.SseConfig;
import dev.ssehub.hub.ConnectionRegistry;
import dev.ssehub.hub.Hub;
import dev.ssehub.transport.SinkTracker;
import dev.ssehub.transport.StreamTransport;
import dev.ssehub.transport.VertxSseChannel;
import io.smallrye.common.annotation.NonBlocking;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/** {@code GET /api/sse/stream}: opens a stream. */
@Path("/api/sse")
public class StreamResource {

    @Inject
    Hub hub;
    @Inject
    SinkTracker sinks;
    @Inject
    StreamTransport transport;
    @Inject
    SseConfig config;

    /**
     * Runs on the connection's event loop, which then owns every write to it. Limits are checked before
     * a byte of the stream is sent, so a refused client gets a plain problem response.
     */
    @GET
    @Path("/stream")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RestStreamElementType(MediaType.APPLICATION_JSON)
    @NonBlocking
    public void stream(@Context SseEventSink sink, @Context HttpServerRequest request,
            @Context HttpServerResponse response, @RestQuery List<String> topic, @RestQuery List<String> type,
            @RestQuery String sessionId, @RestQuery String userId, @RestQuery String lastEventId,
            @RestHeader("Last-Event-ID") String lastEventIdHeader) {
        Hub.StreamRequest req = new Hub.StreamRequest(
                // Until JWT support lands, auth is always off and the user id is taken from the query (development use).
                Requests.optionalName(userId, "userId"),
                Requests.optionalName(sessionId, "sessionId"),
                Requests.topics(topic, "topic"),
                Requests.types(type, "type"),
                Requests.lastEventId(lastEventIdHeader, lastEventId),
                request.remoteAddress() == null ? null : request.remoteAddress().toString(),
                request.getHeader("User-Agent"));
        // Proxies must neither cache nor buffer the stream (nginx honours X-Accel-Buffering per response).
        response.putHeader("Cache-Control", "no-cache");
        response.putHeader("X-Accel-Buffering", "no");
        VertxSseChannel channel = transport.channel(sink, request, response);
        try {
            sinks.track(sink, channel, hub.open(req, channel));
        } catch (Hub.RejectedException e) {
            response.headers().remove("Cache-Control").remove("X-Accel-Buffering");
            throw rejection(e.reason());
        }
    }

    /**
     * {@code HEAD}: the headers a stream would get, nothing registered and no body, so the keep-alive
     * connection is free for the next request. The query is validated as for {@code GET}; limits are not
     * checked (nothing is held).
     */
    @HEAD
    @Path("/stream")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @NonBlocking
    public Response streamHead(@RestQuery List<String> topic, @RestQuery List<String> type, @RestQuery String sessionId,
            @RestQuery String userId, @RestQuery String lastEventId, @RestHeader("Last-Event-ID") String lastEventIdHeader) {
        Requests.optionalName(userId, "userId");
        Requests.optionalName(sessionId, "sessionId");
        Requests.topics(topic, "topic");
        Requests.types(type, "type");
        Requests.lastEventId(lastEventIdHeader, lastEventId);
        return Response.ok().type(MediaType.SERVER_SENT_EVENTS).header("Cache-Control", "no-cache")
                .header("X-Accel-Buffering", "no").header("X-SSE-Content-Type", MediaType.APPLICATION_JSON).build();
    }

    private ApiException rejection(ConnectionRegistry.Rejection reason) {
        return switch (reason) {
            case MAX_CLIENTS -> new ApiException(503, "max-clients", "Too many connections",
                    "This instance holds its maximum of " + config.maxClients() + " streams (sse.max-clients); "
                            + "retry later or on another instance",
                    retryAfterSeconds());
            case MAX_CONNECTIONS_PER_USER -> new ApiException(429, "max-connections-per-user",
                    "Too many connections for this user",
                    "This user already holds " + config.maxConnectionsPerUser()
                            + " streams (sse.max-connections-per-user); close one first",
                    retryAfterSeconds());
        };
    }

    private int retryAfterSeconds() {
        return (int) Math.max(1, config.retry().toSeconds());
    }
}
