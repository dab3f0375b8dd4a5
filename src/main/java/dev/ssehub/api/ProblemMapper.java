package dev.ssehub.api;

import jakarta.inject.Inject;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;

import org.jboss.logging.Logger;
import org.jboss.logging.MDC;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import dev.ssehub.config.SseConfig;
import dev.ssehub.hub.Backplane;
import dev.ssehub.observability.SseMetrics;
import dev.ssehub.security.AuthRefused;
import dev.ssehub.security.Caller;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import io.quarkus.vertx.http.runtime.CurrentVertxRequest;
import io.vertx.ext.web.RoutingContext;

/** Turns every error into an {@code application/problem+json} body with the right status. */
public class ProblemMapper {

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);
    /** Refused publish requests, at INFO with the publisher's identity as MDC fields (see {@link #logRefusal}). */
    static final Logger PUBLISH_LOG = Logger.getLogger("dev.ssehub.publish");
    public static final String PROBLEM_JSON = Problems.MEDIA_TYPE;

    /** The answer for every path the service does not serve: where to go instead. */
    static final String NO_SUCH_PATH = "Nothing is served at this path. The demo page is at /. Open a stream with GET /api/sse/stream, "
            + "publish with POST /api/sse/events; every endpoint is described at /q/openapi and in "
            + "docs/sse_api_usage.md of the SSE Hub repository.";

    @Inject
    Problems problems;
    @Inject
    SseConfig config;
    @Inject
    SseMetrics metrics;
    @Inject
    CurrentVertxRequest current;

    @ServerExceptionMapper
    public Response api(ApiException e) {
        logRefusal(e.status(), e.type(), e.getMessage());
        return problem(e);
    }

    private Response problem(ApiException e) {
        Response.ResponseBuilder b = Response.status(e.status())
                .entity(problems.bytes(new Problems.Problem(e.type(), e.title(), e.status(), e.getMessage())))
                .type(PROBLEM_JSON);
        if (e.retryAfterSeconds() != null) {
            b.header(HttpHeaders.RETRY_AFTER, e.retryAfterSeconds());
        }
        if (e.challenge() != null) {
            b.header(HttpHeaders.WWW_AUTHENTICATE, e.challenge());
        }
        return b.build();
    }

    /**
     * The backplane cannot accept events (Redis unreachable): nothing was published, retry later; or it did
     * not confirm them (a timeout): they may be published, and a retry with the same ids publishes each once.
     */
    @ServerExceptionMapper
    public Response unavailable(Backplane.UnavailableException e) {
        String detail = e.outcomeUnknown()
                ? "Events not confirmed: " + e.getMessage() + "; they may still be published. Retry later with the "
                        + "same id on each event: an id already published is answered as a duplicate, not published again"
                : "Events cannot be accepted now: " + e.getMessage() + "; nothing was published, retry later";
        logRefusal(503, "urn:ssehub:problem:backplane-unavailable", "the backplane cannot accept events");
        return Response.status(503)
                .entity(problems.encode("backplane-unavailable", "Backplane unavailable", 503, detail))
                .type(PROBLEM_JSON).header(HttpHeaders.RETRY_AFTER, config.retryAfterSeconds()).build();
    }

    /**
     * No resource matches the path (the application itself reports unknown client ids and disabled endpoints
     * with {@link ApiException}): point the caller to the stream, the publish endpoint and the docs.
     */
    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return Response.status(404)
                .entity(problems.encode("not-found", "Not Found", 404, NO_SUCH_PATH))
                .type(PROBLEM_JSON).build();
    }

    /** A request without a usable token (from {@link AuthFilter}); counted, never logged above DEBUG. */
    @ServerExceptionMapper
    public Response refused(AuthRefused e) {
        metrics.rejected(SseMetrics.RequestRejection.UNAUTHENTICATED);
        return api(ApiException.unauthorized(e.getMessage(), e.reason() != AuthRefused.Reason.MISSING));
    }

    /**
     * The security layer's own refusals, should anything trigger them (the service checks roles in code,
     * see {@link Access}): the same problems as the service's.
     */
    @ServerExceptionMapper({ AuthenticationFailedException.class, UnauthorizedException.class })
    public Response unauthenticated(RuntimeException e) {
        metrics.rejected(SseMetrics.RequestRejection.UNAUTHENTICATED);
        return api(ApiException.unauthorized("A valid token is required", e instanceof AuthenticationFailedException));
    }

    @ServerExceptionMapper
    public Response forbidden(ForbiddenException e) {
        metrics.rejected(SseMetrics.RequestRejection.FORBIDDEN);
        return api(ApiException.forbidden("The token does not allow this"));
    }

    /** Framework errors: wrong method (405), wrong content type (415), and so on. */
    @ServerExceptionMapper
    public Response web(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        Response.StatusType st = e.getResponse().getStatusInfo();
        String title = st != null ? st.getReasonPhrase() : "Error";
        Response.ResponseBuilder b = Response.status(status)
                .entity(problems.encode(Problems.slug(title), title, status, e.getMessage()))
                .type(PROBLEM_JSON);
        logRefusal(status, "urn:ssehub:problem:" + Problems.slug(title), String.valueOf(e.getMessage()));
        Object allow = e.getResponse().getHeaders().getFirst(HttpHeaders.ALLOW);
        if (allow != null) {
            b.header(HttpHeaders.ALLOW, allow);
        }
        return b.build();
    }

    @ServerExceptionMapper
    public Response unexpected(RuntimeException e) {
        LOG.error("Unexpected error while handling a request", e);
        return Response.status(500)
                .entity(problems.encode("internal-error", "Internal error", 500,
                        "The service failed to handle the request; see its log"))
                .type(PROBLEM_JSON).build();
    }

    /**
     * A refused publish ({@code POST /api/sse/events}, {@code /batch}) is logged at INFO in the category
     * {@code dev.ssehub.publish} with the MDC fields {@code event} ("publish_refused"), {@code userId} (the
     * token's user, if the request had a valid one), {@code remoteAddress}, {@code status} and {@code reason}
     * (the problem type's slug). Never a token: the detail texts name fields and limits, not values.
     */
    private void logRefusal(int status, String type, String detail) {
        RoutingContext rc = current.getCurrent();
        if (rc == null || !rc.request().path().startsWith("/api/sse/events") || !PUBLISH_LOG.isInfoEnabled()) {
            return;
        }
        Caller caller = rc.get(Access.CALLER);
        String user = caller == null || !caller.authenticated() ? null : caller.userId();
        String reason = type.substring(type.lastIndexOf(':') + 1);
        String remote = AuthFilter.clientAddress(rc);
        MDC.put("event", "publish_refused");
        MDC.put("reason", reason);
        MDC.put("status", Integer.toString(status));
        if (user != null) {
            MDC.put("userId", user);
        }
        if (remote != null) {
            MDC.put("remoteAddress", remote);
        }
        try {
            PUBLISH_LOG.infof("Publish refused (%d %s) for user %s from %s: %s", status, reason, user, remote, detail);
        } finally {
            for (String k : new String[] { "event", "reason", "status", "userId", "remoteAddress" }) {
                MDC.remove(k);
            }
        }
    }
}
