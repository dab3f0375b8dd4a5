package dev.ssehub.api;

import java.util.Collection;

import jakarta.inject.Inject;
import jakarta.enterprise.context.ApplicationScoped;

import dev.ssehub.hub.Connection;
import dev.ssehub.observability.SseMetrics;
import dev.ssehub.security.Authenticator;
import dev.ssehub.security.Caller;
import io.quarkus.vertx.http.runtime.CurrentVertxRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * Who may do what (docs/security.md): the caller of the current request ({@link AuthFilter} put it there)
 * and the checks that answer 403 problems, counted in {@code sse_rejected_total{reason="forbidden"}}. With
 * authentication off every check passes.
 */
@ApplicationScoped
public class Access {

    static final String CALLER = "dev.ssehub.caller";

    @Inject
    CurrentVertxRequest current;
    @Inject
    SseMetrics metrics;

    /** The caller of the request being handled. */
    Caller caller() {
        RoutingContext rc = current.getCurrent();
        Caller c = rc == null ? null : rc.get(CALLER);
        if (c == null) {
            throw new IllegalStateException("no caller: the request did not pass AuthFilter");
        }
        return c;
    }

    /** The client's address (see {@link AuthFilter#clientAddress}). */
    String clientAddress() {
        return AuthFilter.clientAddress(current.getCurrent());
    }

    /** The caller, if it may publish. */
    Caller publisher() {
        Caller c = caller();
        if (!c.publisher()) {
            throw denied("Publishing needs the " + Authenticator.PUBLISHER + " role (groups claim)");
        }
        return c;
    }

    /** The caller, if it may manage every stream. */
    Caller admin(String what) {
        Caller c = caller();
        if (!c.admin()) {
            throw denied(what + " needs the " + Authenticator.ADMIN + " role (groups claim)");
        }
        return c;
    }

    /** The caller, if the stream is its own or it is an admin. */
    Caller manage(Connection c) {
        Caller caller = caller();
        if (!caller.mayManage(c.userId())) {
            throw denied("This stream belongs to another user; only its user or an " + Authenticator.ADMIN
                    + " may manage it");
        }
        return caller;
    }

    /** Every topic must be allowed by the caller's token ({@code sse_topics}) and, if given, by the stream's. */
    void topics(Caller caller, Connection stream, Collection<String> topics) {
        for (String t : topics) {
            if (!caller.mayTopic(t) || (stream != null && !stream.mayTopic(t))) {
                throw denied("The token does not allow the topic " + t + " (its " + Authenticator.TOPICS_CLAIM
                        + " claim)");
            }
        }
    }

    ApiException denied(String detail) {
        metrics.rejected(SseMetrics.RequestRejection.FORBIDDEN);
        return ApiException.forbidden(detail);
    }
}
