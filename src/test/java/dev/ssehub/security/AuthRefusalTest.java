package dev.ssehub.security;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.ssehub.support.Api;
import dev.ssehub.support.AuthOn;
import dev.ssehub.support.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.response.ValidatableResponse;

/**
 * With authentication on, requests without a valid token get 401 and tokens without the right role or
 * ownership get 403, every one as problem+json, over real HTTP with real tokens.
 */
@QuarkusTest
@TestProfile(AuthOn.class)
class AuthRefusalTest {

    static final String EVENT = "{\"type\":\"note\",\"data\":1}";

    @BeforeEach
    void reset() {
        Api.resetAs(Tokens.admin().sign());
    }

    /** The tokens that must not get in, by name. */
    static String badToken(String kind) {
        return switch (kind) {
            case "malformed" -> "not.a-jwt.at-all";
            case "garbage" -> "x";
            case "wrong-signature" -> Tokens.user("alice").groups("sse-publisher", "sse-admin").badSignature().sign();
            case "wrong-issuer" -> Tokens.user("alice").groups("sse-publisher", "sse-admin").issuer("https://evil.test").sign();
            case "wrong-audience" -> Tokens.user("alice").groups("sse-publisher", "sse-admin").audience("other-service").sign();
            // Longer ago than smallrye.jwt.expiration.grace (60 s).
            case "expired" -> Tokens.user("alice").groups("sse-publisher", "sse-admin")
                    .expiresAt(Instant.now().minusSeconds(300)).sign();
            case "es256-not-configured" -> Tokens.user("alice").groups("sse-publisher", "sse-admin").es256().sign();
            default -> throw new IllegalArgumentException(kind);
        };
    }

    static ValidatableResponse unauthorized(ValidatableResponse r, String challenge) {
        return r.statusCode(401)
                .contentType(startsWith("application/problem+json"))
                .header("WWW-Authenticate", challenge)
                .body("type", equalTo("urn:ssehub:problem:unauthorized"))
                .body("status", equalTo(401))
                .body("title", equalTo("Unauthorized"));
    }

    @Test
    void noTokenIs401EverywhereWithBearerChallenge() {
        double before = Api.metric("sse_rejected_total{reason=\"unauthenticated\"}");
        unauthorized(given().get("/api/sse/stream").then(), "Bearer").body("detail", containsString("token is required"));
        unauthorized(given().contentType(ContentType.JSON).body(EVENT).post("/api/sse/events").then(), "Bearer");
        unauthorized(given().contentType(ContentType.JSON).body("[" + EVENT + "]").post("/api/sse/events/batch").then(), "Bearer");
        unauthorized(given().get("/api/sse/connections").then(), "Bearer");
        unauthorized(given().delete("/api/sse/connections/abc").then(), "Bearer");
        unauthorized(given().contentType(ContentType.JSON).body("{}").post("/api/sse/connections/abc/subscriptions").then(), "Bearer");
        unauthorized(given().get("/api/sse/stats").then(), "Bearer");
        unauthorized(given().post("/api/sse/reset").then(), "Bearer");
        assertEquals(before + 8, Api.metric("sse_rejected_total{reason=\"unauthenticated\"}"));
        // The probes and the API description stay open.
        given().get("/q/health/ready").then().statusCode(200);
        given().get("/openapi.yaml").then().statusCode(200);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = { "malformed", "garbage", "wrong-signature", "wrong-issuer", "wrong-audience", "expired",
            "es256-not-configured" })
    void badTokensAre401InEveryPlace(String kind) {
        String token = badToken(kind);
        String invalid = "Bearer error=\"invalid_token\"";
        unauthorized(Api.as(token).get("/api/sse/stream").then(), invalid);
        unauthorized(given().queryParam("access_token", token).get("/api/sse/stream").then(), invalid);
        unauthorized(given().cookie("sse_token", token).get("/api/sse/stream").then(), invalid);
        unauthorized(Api.as(token).contentType(ContentType.JSON).body(EVENT).post("/api/sse/events").then(), invalid);
        unauthorized(Api.as(token).get("/api/sse/connections").then(), invalid);
        String body = unauthorized(Api.as(token).get("/api/sse/stats").then(), invalid).extract().asString();
        assertFalse(body.contains(token), "the answer never echoes the token");
        if (kind.equals("expired")) {
            unauthorized(Api.as(token).get("/api/sse/stats").then(), invalid).body("detail", containsString("expired"));
        }
    }

    @Test
    void aTokenPastItsExpWithinTheClockSkewCannotOpenAStreamButMayCallTheApi() {
        String token = Tokens.user("alice").expiresAt(Instant.now().minusSeconds(5)).sign();
        unauthorized(Api.as(token).get("/api/sse/stream").then(), "Bearer error=\"invalid_token\"")
                .body("detail", containsString("expired"));
        // smallrye.jwt.expiration.grace (60 s) still accepts it elsewhere.
        Api.as(token).get("/api/sse/stats").then().statusCode(200).body("userConnections", equalTo(0));
    }

    @Test
    void aStreamTokenMayNotPublishListOrCloseOtherUsersStreams() {
        String alice = Tokens.user("alice").sign();
        String bob = Tokens.user("bob").sign();
        double forbidden = Api.metric("sse_rejected_total{reason=\"forbidden\"}");
        try (Api.Opened aliceStream = Api.openAs(alice, ""); Api.Opened bobStream = Api.openAs(bob, "")) {
            forbidden(Api.as(alice).contentType(ContentType.JSON).body(EVENT).post("/api/sse/events"), "sse-publisher");
            forbidden(Api.as(alice).contentType(ContentType.JSON).body("[" + EVENT + "]").post("/api/sse/events/batch"),
                    "sse-publisher");
            forbidden(Api.as(alice).get("/api/sse/connections"), "sse-admin");
            forbidden(Api.as(alice).queryParam("userId", "bob").get("/api/sse/connections"), "sse-admin");
            forbidden(Api.as(alice).delete("/api/sse/connections/" + bobStream.clientId()), "another user");
            forbidden(Api.as(alice).contentType(ContentType.JSON).body("{\"add\":[\"x\"]}")
                    .post("/api/sse/connections/" + bobStream.clientId() + "/subscriptions"), "another user");
            forbidden(Api.as(alice).post("/api/sse/reset"), "sse-admin");
            forbidden(Api.as(Tokens.publisher().sign()).get("/api/sse/connections"), "sse-admin");
            assertEquals(forbidden + 8, Api.metric("sse_rejected_total{reason=\"forbidden\"}"));

            // Bob's stream is untouched; alice may list and manage her own.
            assertFalse(bobStream.client().ended());
            Api.as(alice).queryParam("userId", "alice").get("/api/sse/connections").then().statusCode(200)
                    .body("total", equalTo(1)).body("connections[0].clientId", equalTo(aliceStream.clientId()));
            Api.as(alice).contentType(ContentType.JSON).body("{\"add\":[\"mine\"]}")
                    .post("/api/sse/connections/" + aliceStream.clientId() + "/subscriptions").then().statusCode(200);
            Api.as(alice).get("/api/sse/stats").then().statusCode(200).body("userConnections", equalTo(1));
            // Another user's figures: her own count, whatever userId she names.
            Api.as(alice).queryParam("userId", "bob").get("/api/sse/stats").then().statusCode(200)
                    .body("userConnections", equalTo(1));
            Api.as(alice).delete("/api/sse/connections/" + aliceStream.clientId()).then().statusCode(204);
            assertTrue(aliceStream.client().awaitEnd(Duration.ofSeconds(5)));

            // The publisher publishes; the admin lists and closes anyone's.
            assertEquals(1, Api.publishAs(Tokens.publisher().sign(), EVENT).getInt("delivered"));
            bobStream.client().await("note", Duration.ofSeconds(5));
            String admin = Tokens.admin().sign();
            Api.as(admin).get("/api/sse/connections").then().statusCode(200).body("total", equalTo(1));
            Api.as(admin).queryParam("userId", "bob").get("/api/sse/stats").then().statusCode(200)
                    .body("userConnections", equalTo(1));
            Api.as(admin).delete("/api/sse/connections/" + bobStream.clientId()).then().statusCode(204);
            assertTrue(bobStream.client().awaitEnd(Duration.ofSeconds(5)));
        }
    }

    @Test
    void theUserIdParameterIsIgnoredAndTheTokenDecides() {
        try (Api.Opened o = Api.open("userId=mallory&sessionId=tab-1", null,
                Map.of("Authorization", "Bearer " + Tokens.user("alice").sign()))) {
            assertEquals("alice", o.established().getString("userId"));
            assertEquals("tab-1", o.established().getString("sessionId"));
        }
        try (Api.Opened o = Api.open("sessionId=tab-1", null,
                Map.of("Authorization", "Bearer " + Tokens.user("alice").sid("sid-a").sign()))) {
            assertEquals("sid-a", o.established().getString("sessionId"), "the token's sid wins over the parameter");
        }
    }

    private static void forbidden(Response r, String detail) {
        r.then().statusCode(403).contentType(startsWith("application/problem+json"))
                .body("type", equalTo("urn:ssehub:problem:forbidden"))
                .body("status", equalTo(403))
                .body("detail", containsString(detail));
    }
}
