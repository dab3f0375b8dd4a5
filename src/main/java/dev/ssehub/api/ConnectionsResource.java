package dev.ssehub.api;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import static dev.ssehub.hub.Subscription.sorted;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.RestHeader;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestQuery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ssehub.hub.CloseReason;
import dev.ssehub.hub.Connection;
import dev.ssehub.hub.Hub;
import dev.ssehub.hub.Subscription;
import dev.ssehub.security.Caller;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Management of open streams: list, close, change subscriptions. With authentication on, an
 * {@code sse-admin} manages every stream; any other valid token only its own user's streams (and lists
 * them only with {@code userId} set to its own user).
 */
@Path("/api/sse/connections")
public class ConnectionsResource {

    private static final String CLIENT_ID = "The stream's client id (from `connection_established` or the list).";
    private static final Set<String> SUBSCRIPTION_FIELDS = Set.of("add", "remove", "types");

    @Inject
    Hub hub;
    @Inject
    ObjectMapper mapper;
    @Inject
    Access access;

    @RegisterForReflection
    public record ConnectionView(String clientId, String userId, String sessionId, List<String> topics,
            List<String> types, String connectedAt, String remoteAddress, String userAgent, String lastEventId,
            long eventsSent, long eventsDropped, int queued, boolean replaying) {
        static ConnectionView of(Connection c) {
            Subscription s = c.subscription();
            return new ConnectionView(c.clientId(), c.userId(), c.sessionId(), sorted(s.topics()), sorted(s.types()),
                    c.connectedAt().toString(), c.remoteAddress(), c.userAgent(), c.lastEventId(), c.eventsSent(),
                    c.eventsDropped(), c.queued(), c.replaying());
        }
    }

    @RegisterForReflection
    public record Page(int total, int offset, int limit, List<ConnectionView> connections) {
    }

    @RegisterForReflection
    public record Subscriptions(String clientId, List<String> topics, List<String> types) {
    }

    /** Oldest first; {@code userId} and {@code topic} filter, {@code limit} (1–1000, default 100) and {@code offset} page. */
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Tag(name = "management")
    @Operation(operationId = "listConnections", summary = "List the open streams of this instance", description =
            "Oldest first (by `connectedAt`, then `clientId`); filters combine with AND. Without `sse-admin`: only "
                    + "with `userId` set to the caller's own user.")
    @APIResponse(responseCode = "200", description = "One page of streams.",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Page.class)))
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @APIResponse(responseCode = "401", ref = "Unauthorized")
    @APIResponse(responseCode = "403", ref = "Forbidden")
    @APIResponse(responseCode = "500", ref = "InternalError")
    public Page list(
            @Parameter(description = "Only streams of this user.", schema = @Schema(type = SchemaType.STRING, pattern = ApiDescription.NAME_PATTERN))
            @RestQuery String userId,
            @Parameter(description = "Only streams subscribed to this topic.",
                    schema = @Schema(type = SchemaType.STRING, pattern = ApiDescription.NAME_PATTERN)) @RestQuery String topic,
            @Parameter(schema = @Schema(type = SchemaType.INTEGER, minimum = "1", maximum = "1000", defaultValue = "100"))
            @RestQuery String limit,
            @Parameter(schema = @Schema(type = SchemaType.INTEGER, minimum = "0", defaultValue = "0"))
            @RestQuery String offset) {
        String user = Requests.optionalName(userId, "userId");
        Caller caller = access.caller();
        if (!caller.admin() && (user == null || !user.equals(caller.userId()))) {
            throw access.denied("Listing streams needs the sse-admin role; without it, list your own with userId="
                    + "<your user id>");
        }
        String t = Requests.optionalName(topic, "topic");
        int lim = Requests.intParam(limit, "limit", 100, 1, 1000);
        int off = Requests.intParam(offset, "offset", 0, 0, Integer.MAX_VALUE);
        List<Connection> matching = new ArrayList<>();
        for (Connection c : hub.registry().all()) {
            if ((user == null || user.equals(c.userId())) && (t == null || c.topics().contains(t))) {
                matching.add(c);
            }
        }
        matching.sort(Comparator.comparing(Connection::connectedAt).thenComparing(Connection::clientId));
        List<ConnectionView> page = new ArrayList<>();
        for (int i = off; i < matching.size() && page.size() < lim; i++) {
            page.add(ConnectionView.of(matching.get(i)));
        }
        return new Page(matching.size(), off, lim, page);
    }

    @DELETE
    @Path("/{clientId}")
    @Tag(name = "management")
    @Operation(operationId = "closeConnection", summary = "Close one stream", description = "Ends the stream. A "
            + "browser's EventSource reconnects on its own (with a new client id) and resumes from its last event id.")
    @APIResponse(responseCode = "204", description = "Closed.")
    @APIResponse(responseCode = "401", ref = "Unauthorized")
    @APIResponse(responseCode = "403", ref = "Forbidden")
    @APIResponse(responseCode = "404", ref = "NotFound")
    @APIResponse(responseCode = "500", ref = "InternalError")
    public Response close(@Parameter(description = CLIENT_ID) @RestPath String clientId) {
        Connection c = find(clientId);
        access.manage(c);
        c.close(CloseReason.ADMIN);
        return Response.noContent().build();
    }

    /** Body {@code {"add": [topics], "remove": [topics], "types"?: [types]}}; effective for the next event. */
    @POST
    @Path("/{clientId}/subscriptions")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Tag(name = "management")
    @Operation(operationId = "changeSubscriptions", summary = "Change a stream's topics and type filter", description =
            "Removes the `remove` topics, then adds the `add` topics; `types`, when present and not null, replaces the "
                    + "type filter (`[]`: all types). Applies from the next published event. At most 64 topics.")
    @APIResponse(responseCode = "200", description = "The stream's topics and types now.",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Subscriptions.class)))
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @APIResponse(responseCode = "401", ref = "Unauthorized")
    @APIResponse(responseCode = "403", ref = "Forbidden")
    @APIResponse(responseCode = "404", ref = "NotFound")
    @APIResponse(responseCode = "415", ref = "UnsupportedMediaType")
    @APIResponse(responseCode = "500", ref = "InternalError")
    public Subscriptions subscriptions(@Parameter(description = CLIENT_ID) @RestPath String clientId, @Parameter(hidden = true) @RestHeader("Content-Type") String contentType,
            @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = ApiDescription.SubscriptionChange.class))) byte[] body) {
        Requests.requireJson(contentType);
        Connection c = find(clientId);
        Caller caller = access.manage(c);
        JsonNode node = JsonBodies.parse(mapper, body);
        if (!node.isObject()) {
            throw ApiException.badRequest("Expected a JSON object with add, remove and/or types");
        }
        node.fieldNames().forEachRemaining(f -> {
            if (!SUBSCRIPTION_FIELDS.contains(f)) {
                throw ApiException.badRequest("Unknown field " + f + "; allowed: add, remove, types");
            }
        });
        Set<String> add = Requests.topics(Requests.strings(node.get("add"), "add"), "add");
        Set<String> remove = Requests.topics(Requests.strings(node.get("remove"), "remove"), "remove");
        access.topics(caller, c, add);
        Set<String> types = node.hasNonNull("types")
                ? Requests.types(Requests.strings(node.get("types"), "types"), "types")
                : null;
        Subscription now;
        try {
            now = hub.changeSubscriptions(c, add, remove, types);
        } catch (IllegalArgumentException tooMany) {
            throw ApiException.badRequest(tooMany.getMessage());
        }
        if (now == null) {
            throw ApiException.notFound("No open stream with client id " + clientId);
        }
        return new Subscriptions(c.clientId(), sorted(now.topics()), sorted(now.types()));
    }

    private Connection find(String clientId) {
        Connection c = hub.registry().get(clientId);
        if (c == null) {
            throw ApiException.notFound("No open stream with client id " + clientId);
        }
        return c;
    }
}
