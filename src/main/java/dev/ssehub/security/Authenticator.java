package dev.ssehub.security;

import java.security.Principal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

import jakarta.inject.Inject;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import org.eclipse.microprofile.jwt.JsonWebToken;
import org.jboss.logging.Logger;
import org.jose4j.jwt.consumer.InvalidJwtException;

import dev.ssehub.config.SseConfig;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.vertx.http.runtime.security.QuarkusHttpUser;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;

/**
 * Turns a request into a {@link Caller}. With {@code sse.auth.enabled=false} every request is an
 * {@link Caller#unauthenticated unauthenticated} caller and tokens are not even looked at. Otherwise the
 * request's token (see {@link TokenMechanism}) is verified by smallrye-jwt, lazily
 * ({@code quarkus.http.auth.proactive=false}), without blocking the event loop; a request without a valid
 * token fails with {@link AuthRefused}.
 */
@ApplicationScoped
public class Authenticator {

    private static final Logger LOG = Logger.getLogger(Authenticator.class);
    public static final String PUBLISHER = "sse-publisher";
    public static final String ADMIN = "sse-admin";
    /** The claim that limits the topics a token may subscribe to. */
    public static final String TOPICS_CLAIM = "sse_topics";
    /** User and session ids are names like every other id of the API (printable ASCII, no spaces). */
    private static final Pattern NAME = Pattern.compile("[!-~]{1,128}");
    /**
     * The refusals are ours to answer (problem+json); Quarkus's own lazy-authentication failure handler
     * would end the response with an empty body.
     */
    private static final BiConsumer<RoutingContext, Throwable> ANSWERED_BY_THE_API = (rc, failure) -> {
    };

    @Inject
    SseConfig config;

    public boolean enabled() {
        return config.auth().enabled();
    }

    /** The caller of this request, or a failure with {@link AuthRefused}. */
    public Uni<Caller> caller(RoutingContext rc, String clientAddress) {
        if (!enabled()) {
            return Uni.createFrom().item(Caller.unauthenticated(clientAddress));
        }
        rc.put(QuarkusHttpUser.AUTH_FAILURE_HANDLER, ANSWERED_BY_THE_API);
        return QuarkusHttpUser.getSecurityIdentity(rc, null)
                .onFailure().transform(Authenticator::refusal)
                .map(Authenticator::caller);
    }

    private static Throwable refusal(Throwable failure) {
        if (failure instanceof AuthRefused) {
            return failure;
        }
        boolean expired = false;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof InvalidJwtException invalid && invalid.hasExpired()) {
                expired = true;
            }
        }
        // The class only: messages of the JWT library quote claims.
        LOG.debugf("Token refused (%s): %s", expired ? "expired" : "invalid", failure.getClass().getName());
        return expired
                ? new AuthRefused(AuthRefused.Reason.EXPIRED, "The token has expired; get a fresh one")
                : new AuthRefused(AuthRefused.Reason.INVALID,
                        "The token is not valid: malformed, not signed by a trusted key, or for another issuer or audience");
    }

    static Caller caller(SecurityIdentity identity) {
        if (identity == null || identity.isAnonymous()) {
            throw new AuthRefused(AuthRefused.Reason.MISSING, "A token is required: send Authorization: Bearer <token>, "
                    + "the access_token query parameter or the token cookie");
        }
        Principal p = identity.getPrincipal();
        if (!(p instanceof JsonWebToken jwt)) {
            throw new AuthRefused(AuthRefused.Reason.INVALID, "The credentials are not a JWT");
        }
        String user = jwt.getSubject() != null ? jwt.getSubject() : jwt.getClaim("upn");
        if (user == null || !NAME.matcher(user).matches()) {
            throw new AuthRefused(AuthRefused.Reason.INVALID,
                    "The token must name its user in sub (or upn): 1 to 128 printable ASCII characters without spaces");
        }
        Object sidClaim = jwt.getClaim("sid");
        String sid = sidClaim == null ? null : text(sidClaim);
        if (sidClaim != null && (sid == null || !NAME.matcher(sid).matches())) {
            throw new AuthRefused(AuthRefused.Reason.INVALID,
                    "The token's sid claim must be 1 to 128 printable ASCII characters without spaces");
        }
        TopicPatterns topics = null;
        Object topicsClaim = jwt.getClaim(TOPICS_CLAIM);
        if (topicsClaim != null) {
            try {
                topics = TopicPatterns.of(strings(topicsClaim));
            } catch (IllegalArgumentException e) {
                throw new AuthRefused(AuthRefused.Reason.INVALID,
                        "The token's " + TOPICS_CLAIM + " claim must be a list of topic patterns: " + e.getMessage());
            }
        }
        long exp = jwt.getExpirationTime();
        return new Caller(true, user, sid, identity.hasRole(PUBLISHER), identity.hasRole(ADMIN), topics,
                exp > 0 ? Instant.ofEpochSecond(exp) : null, user);
    }

    /** A claim's strings: one string or an array of strings (as smallrye-jwt hands out custom claims). */
    private static List<String> strings(Object claim) {
        if (claim instanceof JsonValue v && v.getValueType() == JsonValue.ValueType.STRING || claim instanceof String) {
            return List.of(text(claim));
        }
        if (!(claim instanceof Collection<?> values)) {
            throw new IllegalArgumentException("not a string or an array of strings");
        }
        List<String> out = new ArrayList<>(values.size());
        for (Object o : values) {
            String s = text(o);
            if (s == null) {
                throw new IllegalArgumentException("not an array of strings");
            }
            out.add(s);
        }
        return out;
    }

    private static String text(Object o) {
        if (o instanceof String s) {
            return s;
        }
        if (o instanceof JsonString s) {
            return s.getString();
        }
        return null;
    }
}
