package dev.ssehub.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.smallrye.jwt.algorithm.SignatureAlgorithm;
import io.smallrye.jwt.build.Jwt;
import io.smallrye.jwt.build.JwtClaimsBuilder;
import io.smallrye.jwt.util.KeyUtils;

/**
 * Real JWTs for the tests, signed with the fixed test keys of {@code src/test/resources/keys} (see the README
 * there) by smallrye-jwt-build. Every token minted is remembered, so a test can check that none of them
 * reached a log.
 */
public final class Tokens {

    public static final String ISSUER = "https://issuer.ssehub.test";
    public static final String AUDIENCE = "sse-hub";
    public static final Path KEYS = Path.of("src", "test", "resources", "keys");

    private static final Set<String> MINTED = ConcurrentHashMap.newKeySet();
    private static volatile PrivateKey rsa;
    private static volatile PrivateKey ec;
    private static volatile PrivateKey stranger;

    private Tokens() {
    }

    /** The configuration that turns authentication on with the test keys (RS256 PEM on the class path). */
    public static Map<String, String> authOn() {
        return Map.of("sse.auth.enabled", "true",
                "mp.jwt.verify.publickey.location", "keys/rsa-public.pem",
                "mp.jwt.verify.issuer", ISSUER,
                "mp.jwt.verify.audiences", AUDIENCE);
    }

    /** A token for this user ({@code sub}), valid for ten minutes, with no role. */
    public static Token user(String sub) {
        return new Token(sub);
    }

    public static Token publisher() {
        return user("backend").groups("sse-publisher");
    }

    public static Token admin() {
        return user("operator").groups("sse-admin");
    }

    /** Every token minted in this JVM so far. */
    public static Set<String> minted() {
        return Set.copyOf(MINTED);
    }

    /** The RS256 test key, or a key nobody trusts. */
    static PrivateKey rsaKey() {
        if (rsa == null) {
            rsa = key("rsa-private.pem", SignatureAlgorithm.RS256);
        }
        return rsa;
    }

    static PrivateKey ecKey() {
        if (ec == null) {
            ec = key("ec-private.pem", SignatureAlgorithm.ES256);
        }
        return ec;
    }

    static PrivateKey strangerKey() {
        if (stranger == null) {
            try {
                KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
                g.initialize(2048);
                stranger = g.generateKeyPair().getPrivate();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }
        return stranger;
    }

    private static PrivateKey key(String file, SignatureAlgorithm alg) {
        try {
            return KeyUtils.decodePrivateKey(Files.readString(KEYS.resolve(file)), alg);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A token being built; {@link #sign} mints it. */
    public static final class Token {
        private final String sub;
        private final Set<String> groups = new LinkedHashSet<>();
        private String sid;
        private List<String> topics;
        private Instant expiresAt = Instant.now().plus(Duration.ofMinutes(10));
        private String issuer = ISSUER;
        private String audience = AUDIENCE;
        private boolean es256;
        private boolean stranger;

        private Token(String sub) {
            this.sub = sub;
        }

        public Token groups(String... g) {
            groups.addAll(List.of(g));
            return this;
        }

        public Token sid(String s) {
            sid = s;
            return this;
        }

        /** The {@code sse_topics} claim. */
        public Token topics(String... patterns) {
            topics = new ArrayList<>(List.of(patterns));
            return this;
        }

        public Token expiresAt(Instant at) {
            expiresAt = at;
            return this;
        }

        public Token expiresIn(Duration d) {
            return expiresAt(Instant.now().plus(d));
        }

        public Token issuer(String iss) {
            issuer = iss;
            return this;
        }

        public Token audience(String aud) {
            audience = aud;
            return this;
        }

        /** Signed with the ES256 test key ({@code kid} test-ec) instead of the RS256 one. */
        public Token es256() {
            es256 = true;
            return this;
        }

        /** Signed with a key that no configuration trusts. */
        public Token badSignature() {
            stranger = true;
            return this;
        }

        public String sign() {
            // Issued before it expires, also for tokens that expired already.
            Instant issued = Instant.now().minusSeconds(1);
            if (!issued.isBefore(expiresAt)) {
                issued = expiresAt.minusSeconds(60);
            }
            JwtClaimsBuilder b = Jwt.issuer(issuer).subject(sub).audience(audience).issuedAt(issued).expiresAt(expiresAt);
            if (!groups.isEmpty()) {
                b.groups(groups);
            }
            if (sid != null) {
                b.claim("sid", sid);
            }
            if (topics != null) {
                b.claim("sse_topics", topics);
            }
            String token = es256
                    ? b.jws().algorithm(SignatureAlgorithm.ES256).keyId("test-ec").sign(ecKey())
                    : b.jws().keyId("test-rsa").sign(stranger ? strangerKey() : rsaKey());
            MINTED.add(token);
            return token;
        }
    }
}
