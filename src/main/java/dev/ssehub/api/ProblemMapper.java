package dev.ssehub.api;

import jakarta.inject.Inject;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;

import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;


/** Turns every error into an {@code application/problem+json} body with the right status. */
public class ProblemMapper {

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);
    public static final String PROBLEM_JSON = Problems.MEDIA_TYPE;

    @Inject
    Problems problems;

    @ServerExceptionMapper
    public Response api(ApiException e) {
        Response.ResponseBuilder b = Response.status(e.status())
                .entity(problems.bytes(new Problems.Problem(e.type(), e.title(), e.status(), e.getMessage())))
                .type(PROBLEM_JSON);
        if (e.retryAfterSeconds() != null) {
            b.header(HttpHeaders.RETRY_AFTER, e.retryAfterSeconds());
        }
        return b.build();
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
