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

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.ParameterIn;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.extensions.Extension;
import org.eclipse.microprofile.openapi.annotations.headers.Header;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestHeader;
import org.jboss.resteasy.reactive.RestQuery;
import org.jboss.resteasy.reactive.RestStreamElementType;

import dev.ssehub.config.SseConfig;
import dev.ssehub.hub.Connection;
import dev.ssehub.hub.ConnectionRegistry;
import dev.ssehub.hub.Grant;
import dev.ssehub.hub.Hub;
import dev.ssehub.observability.SseMetrics;
import dev.ssehub.observability.StatsFeed;
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
    @Inject
    StatsFeed statsFeed;

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
    @Tag(name = "stream")
    @Operation(operationId = "openStream", summary = "Open an event stream", description = STREAM_DESCRIPTION)
    @Parameter(name = "access_token", in = ParameterIn.QUERY, description = "The JWT, for clients that cannot send "
            + "headers (EventSource); read by the security layer, never logged. The `Authorization` header wins over "
            + "it. It travels in the URL: use short-lived tokens.", schema = @Schema(type = SchemaType.STRING))
    @APIResponse(responseCode = "200", description = "The stream; it stays open until the client leaves or the service "
            + "closes it. Headers: `Cache-Control: no-cache`, `X-Accel-Buffering: no`.",
            headers = { @Header(name = "Cache-Control", schema = @Schema(type = SchemaType.STRING, enumeration = "no-cache")),
                    @Header(name = "X-Accel-Buffering", schema = @Schema(type = SchemaType.STRING, enumeration = "no")) },
            content = @Content(mediaType = MediaType.SERVER_SENT_EVENTS, schema = @Schema(type = SchemaType.STRING,
                    description = "UTF-8 text/event-stream frames, each ended by a blank line. The `data` of each event "
                            + "type is in `x-sse-events`."),
                    example = STREAM_EXAMPLE,
                    extensions = @Extension(name = "x-sse-events", parseValue = true, value = SSE_EVENTS)))
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @APIResponse(responseCode = "401", ref = "Unauthorized")
    @APIResponse(responseCode = "403", ref = "Forbidden")
    @APIResponse(responseCode = "406", ref = "NotAcceptable")
    @APIResponse(responseCode = "429", ref = "TooManyStreams")
    @APIResponse(responseCode = "500", ref = "InternalError")
    @APIResponse(responseCode = "503", ref = "MaxClients")
    public void stream(@Context SseEventSink sink, @Context HttpServerRequest request,
            @Context HttpServerResponse response,
            @Parameter(description = "Topics to subscribe to; repeat for several (at most 64).",
                    schema = @Schema(type = SchemaType.ARRAY, maxItems = 64, implementation = String.class)) @RestQuery List<String> topic,
            @Parameter(description = "Only these event types are delivered; repeat for several (at most 64). Control "
                    + "events always pass. Absent: all types.",
                    schema = @Schema(type = SchemaType.ARRAY, maxItems = 64, implementation = String.class)) @RestQuery List<String> type,
            @Parameter(description = "The client's session id, for `target.sessionIds` (with authentication on: only "
                    + "when the token has no `sid`, and only with its user). Empty means absent.",
                    schema = @Schema(type = SchemaType.STRING, pattern = ApiDescription.NAME_PATTERN)) @RestQuery String sessionId,
            @Parameter(description = "The user id, with authentication off only (development); with it on the "
                    + "token's `sub` decides and this is ignored.",
                    schema = @Schema(type = SchemaType.STRING, pattern = ApiDescription.NAME_PATTERN)) @RestQuery String userId,
            @Parameter(description = "Resume after this event id, for clients that cannot set headers; the "
                    + "`Last-Event-ID` header wins.",
                    schema = @Schema(type = SchemaType.STRING, pattern = ApiDescription.ID_PATTERN)) @RestQuery String lastEventId,
            @Parameter(description = "`true`: the stream also gets `event: stats` with the instance's figures, at most "
                    + "once a second when they change (the demo page's stats panel).",
                    schema = @Schema(type = SchemaType.BOOLEAN, defaultValue = "false")) @RestQuery String stats,
            @Parameter(description = "Resume after this event id (browsers send it when they reconnect).",
                    schema = @Schema(type = SchemaType.STRING, pattern = ApiDescription.ID_PATTERN)) @RestHeader("Last-Event-ID") String lastEventIdHeader) {
        Caller caller = access.caller();
        boolean wantsStats = Requests.flag(stats, "stats");
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
            Connection opened = hub.open(req, channel);
            sinks.track(sink, channel, opened);
            if (wantsStats) {
                statsFeed.watch(opened);
            }
        } catch (Hub.RejectedException e) {
            response.headers().remove("Cache-Control").remove("X-Accel-Buffering");
            throw rejection(e.reason());
        }
    }

    static final String STREAM_DESCRIPTION = "Answers `200` with `Content-Type: text/event-stream` and keeps the "
            + "response open. Limits are checked before the first byte, so a refused client gets a plain problem answer.\n\n"
            + "The first frame is always `retry: <sse.retry in ms>` plus `event: connection_established` (no `id:` "
            + "line). With `Last-Event-ID` (or `lastEventId`) the stream then replays every later event that matches it, "
            + "in order, and continues live with no gap and no duplicate; if the id is older than the replay log it "
            + "first sends `event: replay_truncated`. Heartbeats (`event: heartbeat`, or the comment `: heartbeat`) go "
            + "to idle streams every `sse.heartbeat.interval`. Published events: `id: <epochMillis>-<sequence>`, "
            + "`event: <type>`, `data: <JSON on one line>`. With authentication on, at the token's `exp` the stream "
            + "gets `event: token_expired` and ends: reconnect with a fresh token from the last event id.";

    static final String STREAM_EXAMPLE = "retry: 3000\nevent: connection_established\ndata: {\"clientId\":"
            + "\"73d354c0-8e39-41b1-ac71-c807b06fae04\",\"userId\":\"alice\",\"sessionId\":null,\"topics\":[\"orders\"],"
            + "\"types\":[],\"heartbeatIntervalMs\":15000,\"serverTime\":\"2026-01-05T10:00:00.123456Z\"}\n\n"
            + "id: 1767607200500-0\nevent: notification\ndata: {\"text\":\"hello\"}\n\n"
            + "event: heartbeat\ndata: {\"ts\":1767607215000}\n\n";

    /** The event types of the stream and the schema of each one's {@code data}. */
    static final String SSE_EVENTS = "{"
            + "\"connection_established\": {\"id\": false, \"data\": {\"$ref\": \"#/components/schemas/Established\"}},"
            + "\"heartbeat\": {\"id\": false, \"data\": {\"$ref\": \"#/components/schemas/Heartbeat\"}},"
            + "\"replay_truncated\": {\"id\": false, \"data\": {\"$ref\": \"#/components/schemas/Truncated\"}},"
            + "\"token_expired\": {\"id\": false, \"data\": {\"$ref\": \"#/components/schemas/TokenExpired\"}},"
            + "\"stats\": {\"id\": false, \"data\": {\"$ref\": \"#/components/schemas/Figures\"}},"
            + "\"<published type>\": {\"id\": true, \"data\": {\"description\": \"the publisher's data, one line of JSON\"}}"
            + "}";

    /**
     * {@code HEAD}: the headers a stream would get, nothing registered and no body, so the keep-alive
     * connection is free for the next request. The query and the token are checked as for {@code GET} (a
     * refused {@code GET} is a refused {@code HEAD}); limits and the connect rate are not (nothing is held).
     */
    @HEAD
    @Path("/stream")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @NonBlocking
    @Tag(name = "stream")
    @Operation(operationId = "streamHeaders", summary = "The headers of a stream, without opening one", description =
            "Answers the headers `GET` would send (`Content-Type: text/event-stream`, `Cache-Control`, "
                    + "`X-Accel-Buffering`) and no body. Nothing is registered: no stream, no limit slot, no "
                    + "`sse_connections_opened_total`, and the keep-alive connection is free for the next request. The "
                    + "query and, with authentication on, the token are checked as for `GET` (400, 401, 403); limits and "
                    + "the connect rate are not.")
    @Parameter(name = "access_token", in = ParameterIn.QUERY, description = "The JWT, as for `GET`.",
            schema = @Schema(type = SchemaType.STRING))
    @APIResponse(responseCode = "200", description = "What `GET` would answer, without the body.",
            headers = { @Header(name = "Cache-Control", schema = @Schema(type = SchemaType.STRING, enumeration = "no-cache")),
                    @Header(name = "X-Accel-Buffering", schema = @Schema(type = SchemaType.STRING, enumeration = "no")) },
            content = @Content(mediaType = MediaType.SERVER_SENT_EVENTS))
    @APIResponse(responseCode = "400", description = "An invalid query parameter or `Last-Event-ID` (no body, as for "
            + "every `HEAD`).")
    @APIResponse(responseCode = "401", description = "No valid token, with authentication on (no body; "
            + "`WWW-Authenticate: Bearer`).")
    @APIResponse(responseCode = "403", description = "A topic outside the token's `sse_topics` (no body).")
    @APIResponse(responseCode = "406", description = "`Accept` excludes `text/event-stream` (no body).")
    @APIResponse(responseCode = "500", description = "An unexpected failure (no body; details in the service log).")
    public Response streamHead(@Parameter(description = "Topics, as for `GET`.") @RestQuery List<String> topic,
            @Parameter(description = "Event types, as for `GET`.") @RestQuery List<String> type,
            @Parameter(description = "As for `GET`.") @RestQuery String sessionId,
            @Parameter(description = "As for `GET`.") @RestQuery String userId,
            @Parameter(description = "As for `GET`.") @RestQuery String lastEventId,
            @Parameter(name = "Last-Event-ID", description = "As for `GET`.") @RestHeader("Last-Event-ID") String lastEventIdHeader) {
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
                    config.retryAfterSeconds());
            case MAX_CONNECTIONS_PER_USER -> new ApiException(429, "max-connections-per-user",
                    "Too many connections for this user",
                    "This user already holds " + config.maxConnectionsPerUser()
                            + " streams (sse.max-connections-per-user); close one first",
                    config.retryAfterSeconds());
        };
    }
}
