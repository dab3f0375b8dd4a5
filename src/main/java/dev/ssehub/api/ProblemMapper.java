package dev.ssehub.api;

import jakarta.inject.Inject;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;

import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import dev.ssehub.config.SseConfig;
import dev.ssehub.hub.Backplane;
import dev.ssehub.observability.SseMetrics;
import dev.ssehub.security.AuthRefused;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;

/** Turns every error into an {@code application/problem+json} body with the right status. */
public class ProblemMapper {

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);
    public static final String PROBLEM_JSON = Problems.MEDIA_TYPE;

    @Inject
    Problems problems;
    @Inject
    SseConfig config;
    @Inject
    SseMetrics metrics;

    private int retryAfterSeconds() {
        return (int) Math.max(1, config.retry().toSeconds());
    }

    @ServerExceptionMapper
    public Response api(ApiException e) {
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

    /** The backplane cannot accept events (Redis unreachable): nothing was published; retry later. */
    @ServerExceptionMapper
    public Response unavailable(Backplane.UnavailableException e) {
        return Response.status(503)
                .entity(problems.encode("backplane-unavailable", "Backplane unavailable", 503,
                        "Events cannot be accepted now: " + e.getMessage() + "; nothing was published, retry later"))
                .type(PROBLEM_JSON).header(HttpHeaders.RETRY_AFTER, retryAfterSeconds()).build();
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

    /** Framework errors: unknown path (404), wrong method (405), wrong content type (415), and so on. */
    @ServerExceptionMapper
    public Response web(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        Response.StatusType st = e.getResponse().getStatusInfo();
        String title = st != null ? st.getReasonPhrase() : "Error";
        Response.ResponseBuilder b = Response.status(status)
                .entity(problems.encode(Problems.slug(title), title, status, e.getMessage()))
                .type(PROBLEM_JSON);
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
}
