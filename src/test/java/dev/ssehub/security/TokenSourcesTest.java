package dev.ssehub.security;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.AuthOn;
import dev.ssehub.support.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * A stream opens with its token in the Authorization header, the access_token query parameter or the
 * sse_token cookie; with several, the header wins, then the parameter. (That no token reaches a log is
 * checked on the packaged service: it.TokenLogIT.)
 */
@QuarkusTest
@TestProfile(AuthOn.class)
class TokenSourcesTest {

    @Test
    void headerQueryAndCookieTokensEachOpenAStream() {
        try (Api.Opened header = Api.open("", null, Map.of("Authorization", "Bearer " + Tokens.user("by-header").sign()));
                Api.Opened query = Api.open("access_token=" + Tokens.user("by-query").sign(), null, Map.of());
                Api.Opened cookie = Api.open("", null, Map.of("Cookie", "other=1; sse_token=" + Tokens.user("by-cookie").sign()))) {
            assertEquals("by-header", header.established().getString("userId"));
            assertEquals("by-query", query.established().getString("userId"));
            assertEquals("by-cookie", cookie.established().getString("userId"));
        }
    }

    @Test
    void theHeaderWinsThenTheQueryParameterThenTheCookie() {
        String header = Tokens.user("by-header").sign();
        String query = Tokens.user("by-query").sign();
        String cookie = Tokens.user("by-cookie").sign();
        try (Api.Opened all = Api.open("access_token=" + query, null,
                Map.of("Authorization", "Bearer " + header, "Cookie", "sse_token=" + cookie))) {
            assertEquals("by-header", all.established().getString("userId"));
        }
        try (Api.Opened two = Api.open("access_token=" + query, null, Map.of("Cookie", "sse_token=" + cookie))) {
            assertEquals("by-query", two.established().getString("userId"));
        }
        // The first source found decides, valid or not: a bad header is not rescued by a good cookie.
        Api.as("garbage").cookie("sse_token", cookie).get("/api/sse/stream").then().statusCode(401);
        // Other sources than these are not read: a cookie of another name, a Basic header.
        given().header("Authorization", "Basic YTpi").get("/api/sse/stats").then().statusCode(401);
        given().cookie("token", cookie).get("/api/sse/stats").then().statusCode(401);
    }
}
