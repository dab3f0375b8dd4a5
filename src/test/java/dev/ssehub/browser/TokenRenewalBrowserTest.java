package dev.ssehub.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ssehub.support.Api;
import dev.ssehub.support.AuthOn;
import dev.ssehub.support.BrowserScript;
import dev.ssehub.support.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * sse-hub.js on the fetch transport with authentication on (src/test/browser/client-tokens.mjs): getToken()
 * mints RS256 tokens that live 3 s with the test key; one renewal is slow, so one stream reaches its exp and
 * ends with token_expired. Events are published every 150 ms throughout.
 */
@QuarkusTest
@TestProfile(AuthOn.class)
class TokenRenewalBrowserTest {

    @Test
    void renewsTokensBeforeExpiryAndAfterTokenExpiredWithoutLossRepeatOrTokenInAUrl() throws Exception {
        BrowserScript.assumeBrowser();
        Api.resetAs(Tokens.admin().sign());
        JsonNode r = BrowserScript.run("client-tokens.mjs", Duration.ofSeconds(150), Api.base(),
                Tokens.KEYS.resolve("rsa-private.pem").toAbsolutePath().toString(), "12");
        assertEquals("fetch", r.path("transport").asText());
        List<String> published = BrowserScript.strings(r.path("published"));
        assertTrue(published.size() > 30, "events published: " + published.size());
        assertEquals(published, BrowserScript.strings(r.path("seen")), "every event once, in order");

        assertTrue(r.path("renewed").asInt() >= 3, "renewals before exp: " + r.path("renewed"));
        assertTrue(r.path("tokenExpired").asInt() >= 1, "token_expired: " + r.path("tokenExpired"));
        assertTrue(r.path("getTokenCalls").asInt() >= 4, "getToken calls: " + r.path("getTokenCalls"));

        assertEquals(0, r.path("urlsWithToken").size(), "no URL carried a token: " + r.path("urlsWithToken"));
        JsonNode streams = r.path("streamRequests");
        assertTrue(streams.size() >= 4, "a stream per token: " + streams);
        for (JsonNode s : streams) {
            assertTrue(s.path("authorization").asText().startsWith("Bearer "), "the token in the header: " + s.path("url"));
            assertTrue(!s.path("url").asText().contains("access_token"), s.path("url").asText());
        }
        for (int i = 1; i < streams.size(); i++) {
            assertTrue(streams.get(i).hasNonNull("lastEventId"), "each later stream resumes with Last-Event-ID: " + streams);
        }
    }
}
