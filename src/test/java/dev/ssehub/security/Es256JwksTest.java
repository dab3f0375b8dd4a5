package dev.ssehub.security;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/** ES256 tokens verified with a key from a JWKS file (chosen by kid); RS256 tokens are refused there. */
@QuarkusTest
@TestProfile(Es256JwksTest.Jwks.class)
class Es256JwksTest {

    public static class Jwks implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("sse.auth.enabled", "true",
                    "mp.jwt.verify.publickey.location", "keys/test-keys.jwks",
                    "mp.jwt.verify.publickey.algorithm", "ES256",
                    "mp.jwt.verify.issuer", Tokens.ISSUER);
        }
    }

    @Test
    void es256TokensFromTheJwksWorkAndRs256OnesDoNot() {
        try (Api.Opened o = Api.openAs(Tokens.user("ec-user").es256().sign(), "topic=ec")) {
            assertEquals("ec-user", o.established().getString("userId"));
            Api.publishAs(Tokens.publisher().es256().sign(), "{\"type\":\"ec\",\"target\":{\"topics\":[\"ec\"]}}");
            o.client().await("ec", java.time.Duration.ofSeconds(5));
        }
        Api.as(Tokens.user("rs-user").sign()).get("/api/sse/stats").then().statusCode(401);
    }
}
