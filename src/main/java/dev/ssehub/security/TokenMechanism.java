package dev.ssehub.security;

import java.util.List;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.quarkus.security.identity.IdentityProviderManager;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.AuthenticationRequest;
import io.quarkus.security.identity.request.TokenAuthenticationRequest;
import io.quarkus.smallrye.jwt.runtime.auth.JWTAuthMechanism;
import io.quarkus.smallrye.jwt.runtime.auth.JsonWebTokenCredential;
import io.quarkus.vertx.http.runtime.security.ChallengeData;
import io.quarkus.vertx.http.runtime.security.HttpAuthenticationMechanism;
import io.quarkus.vertx.http.runtime.security.HttpCredentialTransport;
import io.quarkus.vertx.http.runtime.security.HttpSecurityUtils;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;

import dev.ssehub.config.SseConfig;

/**
 * Finds the request's token where a browser can put one, first match wins: the {@code Authorization: Bearer}
 * header (handed to smallrye-jwt's own mechanism), the {@code access_token} query parameter (an
 * {@code EventSource} cannot send headers; smallrye-jwt reads no query parameter), then the cookie named by
 * {@code sse.auth.cookie}. Every token is verified by smallrye-jwt's identity provider
 * ({@code mp.jwt.verify.*}). It runs before smallrye-jwt's mechanism (higher priority), so the header still
 * wins when all three are present. The token value is never logged or echoed.
 */
@ApplicationScoped
public class TokenMechanism implements HttpAuthenticationMechanism {

    /** The query parameter of a token (OAuth 2.0 bearer token usage, RFC 6750 §2.3). */
    public static final String QUERY_PARAMETER = "access_token";
    private static final String BEARER = "Bearer";

    private final JWTAuthMechanism jwt;
    private final String cookieName;

    @Inject
    public TokenMechanism(JWTAuthMechanism jwt, SseConfig config) {
        this.jwt = jwt;
        this.cookieName = config.auth().cookie();
    }

    @Override
    public Uni<SecurityIdentity> authenticate(RoutingContext context, IdentityProviderManager identityProviderManager) {
        String authorization = context.request().getHeader(HttpHeaderNames.AUTHORIZATION);
        if (authorization != null && authorization.regionMatches(true, 0, BEARER + " ", 0, BEARER.length() + 1)) {
            return jwt.authenticate(context, identityProviderManager);
        }
        String token = queryToken(context);
        if (token == null) {
            token = cookieToken(context);
        }
        if (token == null) {
            return Uni.createFrom().nullItem();
        }
        return identityProviderManager.authenticate(HttpSecurityUtils.setRoutingContextAttribute(
                new TokenAuthenticationRequest(new JsonWebTokenCredential(token)), context));
    }

    private static String queryToken(RoutingContext context) {
        List<String> values = context.queryParam(QUERY_PARAMETER);
        if (values == null || values.isEmpty() || values.get(0).isEmpty()) {
            return null;
        }
        return values.get(0);
    }

    private String cookieToken(RoutingContext context) {
        String header = context.request().getHeader(HttpHeaderNames.COOKIE);
        if (header == null) {
            return null;
        }
        // LAX: browsers send what they were given; STRICT would drop a whole header for one odd cookie.
        for (Cookie c : ServerCookieDecoder.LAX.decode(header)) {
            if (c.name().equals(cookieName) && !c.value().isEmpty()) {
                return c.value();
            }
        }
        return null;
    }

    @Override
    public Uni<ChallengeData> getChallenge(RoutingContext context) {
        return Uni.createFrom().item(new ChallengeData(401, HttpHeaderNames.WWW_AUTHENTICATE, BEARER));
    }

    @Override
    public Set<Class<? extends AuthenticationRequest>> getCredentialTypes() {
        return Set.of(TokenAuthenticationRequest.class);
    }

    @Override
    public Uni<HttpCredentialTransport> getCredentialTransport(RoutingContext context) {
        return Uni.createFrom().item(new HttpCredentialTransport(HttpCredentialTransport.Type.AUTHORIZATION, BEARER,
                "sse-bearer"));
    }

    @Override
    public int getPriority() {
        return DEFAULT_PRIORITY + 100;
    }
}
