package dev.ssehub.api;

import java.time.Instant;
import java.util.List;
import java.util.Set;

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
import dev.ssehub.hub.Grant;
import dev.ssehub.hub.Hub;
import dev.ssehub.observability.SseMetrics;
import dev.ssehub.security.Caller;
import dev.ssehub.security.Limits;
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
    @Inject
    Access access;
    @Inject
    Limits limits;
    @Inject
    SseMetrics metrics;

    /**
     * Runs on the connection's event loop, which then owns every write to it. Limits are checked before
     * a byte of the stream is sent, so a refused client gets a plain problem response.
     *
     * <p>With authentication on, the token decides: the user is its {@code sub}, the session its {@code sid}
     * (the {@code sessionId} parameter counts only when the token has none: it narrows within the token's
     * user), the topics must be allowed by its {@code sse_topics}, and the stream ends at its {@code exp}
     * (or after {@code sse.auth.max-stream-lifetime}) with {@code token_expired}. The {@code userId}
     * parameter is ignored. The {@code access_token} parameter is read by the security layer only.
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
        Caller caller = access.caller();
        Set<String> topics = Requests.topics(topic, "topic");
        String session = Requests.optionalName(sessionId, "sessionId");
        String user = Requests.optionalName(userId, "userId");
        Grant grant = Grant.UNRESTRICTED;
        if (caller.authenticated()) {
            user = caller.userId();
            boolean sessionFromToken = caller.sessionId() != null;
            if (sessionFromToken) {
                session = caller.sessionId();
            }
            access.topics(caller, null, topics);
            grant = new Grant(endsAt(caller), caller.topicRule(), !sessionFromToken && session != null);
        }
        Hub.StreamRequest req = new Hub.StreamRequest(user, session, topics, Requests.types(type, "type"),
                Requests.lastEventId(lastEventIdHeader, lastEventId),
                request.remoteAddress() == null ? null : request.remoteAddress().toString(),
                request.getHeader("User-Agent"), grant);
        long wait = limits.connect().acquire(access.clientAddress(), 1, System.nanoTime());
        if (wait > 0) {
            metrics.connectRateRejected();
            throw new ApiException(429, "connect-rate", "Too many stream opens",
                    "This client address opened more than " + config.connect().rate()
                            + " streams per second (sse.connect.rate); retry later",
                    Limit.retryAfterSeconds(wait));
        }
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
     * connection is free for the next request. The query and the token are checked as for {@code GET} (a
     * refused {@code GET} is a refused {@code HEAD}); limits and the connect rate are not (nothing is held).
     */
    @HEAD
    @Path("/stream")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @NonBlocking
    public Response streamHead(@RestQuery List<String> topic, @RestQuery List<String> type, @RestQuery String sessionId,
            @RestQuery String userId, @RestQuery String lastEventId, @RestHeader("Last-Event-ID") String lastEventIdHeader) {
        Caller caller = access.caller();
        Set<String> topics = Requests.topics(topic, "topic");
        Requests.optionalName(userId, "userId");
        Requests.optionalName(sessionId, "sessionId");
        Requests.types(type, "type");
        Requests.lastEventId(lastEventIdHeader, lastEventId);
        if (caller.authenticated()) {
            access.topics(caller, null, topics);
            endsAt(caller);
        }
        return Response.ok().type(MediaType.SERVER_SENT_EVENTS).header("Cache-Control", "no-cache")
                .header("X-Accel-Buffering", "no").header("X-SSE-Content-Type", MediaType.APPLICATION_JSON).build();
    }

    /**
     * When the stream must end: the token's {@code exp}, or earlier after {@code sse.auth.max-stream-lifetime}.
     * A token past its {@code exp} cannot open a stream, even while the verifier's clock skew
     * ({@code smallrye.jwt.expiration.grace}) still accepts it for other calls: the stream would end at once, and a
     * browser would reconnect with the same token in a loop.
     */
    private Instant endsAt(Caller caller) {
        Instant now = Instant.now();
        Instant end = caller.expiresAt();
        if (end != null && !end.isAfter(now)) {
            metrics.rejected(SseMetrics.RequestRejection.UNAUTHENTICATED);
            throw ApiException.unauthorized("The token has expired; open the stream with a fresh one", true);
        }
        if (config.auth().maxStreamLifetime().isPresent()) {
            Instant cap = now.plus(config.auth().maxStreamLifetime().get());
            if (end == null || cap.isBefore(end)) {
                end = cap;
            }
        }
        return end;
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
