package dev.ssehub.api;

import jakarta.inject.Inject;

import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import dev.ssehub.security.Authenticator;
import io.quarkus.vertx.http.runtime.CurrentVertxRequest;
import io.smallrye.mutiny.Uni;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;

/**
 * Resolves the caller of every API request before its resource runs (see {@link Access}): with
 * authentication on, the request's token is verified without blocking the event loop, and a request
 * without a valid token ends here with a 401 problem ({@link ProblemMapper#refused}), before any
 * validation or stream byte.
 */
public class AuthFilter {

    @Inject
    Authenticator authenticator;
    @Inject
    CurrentVertxRequest current;

    @ServerRequestFilter
    public Uni<Void> authenticate() {
        RoutingContext rc = current.getCurrent();
        return authenticator.caller(rc, clientAddress(rc)).invoke(caller -> rc.put(Access.CALLER, caller)).replaceWithVoid();
    }

    /**
     * The client's address (with {@code quarkus.http.proxy.proxy-address-forwarding}, the one the trusted
     * proxy forwarded): the key of the per-address limits.
     */
    static String clientAddress(RoutingContext rc) {
        SocketAddress a = rc.request().remoteAddress();
        return a == null || a.host() == null ? "unknown" : a.host();
    }
}
