package dev.ssehub.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ssehub.hub.EventId;
import dev.ssehub.support.Api;
import dev.ssehub.support.BrowserScript;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * sse-hub.js in headless Chromium against a service with small limits: three streams per instance, one per
 * user, and {@code Retry-After} of one second (src/test/browser/client-backoff.mjs, client-filters.mjs).
 */
@QuarkusTest
@TestProfile(ClientLibraryBrowserTest.SmallLimits.class)
class ClientLibraryBrowserTest {

    static final int MAX_CLIENTS = 3;

    public static class SmallLimits implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("sse.max-clients", String.valueOf(MAX_CLIENTS), "sse.max-connections-per-user", "1",
                    "sse.retry", "1s");
        }
    }

    @BeforeEach
    void reset() {
        Api.reset();
    }

    /**
     * The EventSource transport while the instance is full: attempts no earlier than Retry-After, with a
     * jittered part whose ceiling doubles; when a slot frees it resumes from its last id and the page has
     * every event once, in order, including those published while it was refused.
     */
    @Test
    void backsOffOnA503NoShorterThanRetryAfterAndResumesWithEveryEventOnce() throws Exception {
        JsonNode r = BrowserScript.run("client-backoff.mjs", Duration.ofSeconds(150), Api.base(), String.valueOf(MAX_CLIENTS));
        assertEquals("eventsource", r.path("transport").asText());
        List<String> published = BrowserScript.strings(r.path("published"));
        assertEquals(12, published.size());
        assertEquals(published, BrowserScript.strings(r.path("seen")), "every event once, in order");
        assertEquals(published.get(published.size() - 1), r.path("lastEventId").asText());

        List<JsonNode> refused = new ArrayList<>();
        r.path("attempts").forEach(a -> {
            if (a.path("status").asInt() == 503) {
                refused.add(a);
            }
        });
        assertTrue(refused.size() >= 3, "attempts after 503: " + r.path("attempts"));
        Set<Long> jitter = new HashSet<>();
        for (int i = 0; i < refused.size(); i++) {
            JsonNode a = refused.get(i);
            long floor = a.path("floorMs").asLong();
            long delay = a.path("delayMs").asLong();
            long ceiling = a.path("ceilingMs").asLong();
            assertEquals(1000, floor, "the floor is the answer's Retry-After (sse.retry=1s): " + a);
            assertTrue(delay >= floor && delay <= floor + ceiling, "Retry-After + up to the ceiling: " + a);
            assertEquals("max-clients", a.path("problem").path("type").asText().replace("urn:ssehub:problem:", ""), "" + a);
            if (i > 0) {
                long before = refused.get(i - 1).path("ceilingMs").asLong();
                assertEquals(Math.min(4000, 2 * before), ceiling, "the ceiling doubles up to the cap: " + refused);
            }
            jitter.add(delay - floor);
        }
        assertTrue(jitter.size() > 1, "the delays are jittered: " + refused);
        // On the network, as the browser did it: after a probe learned "503, Retry-After: 1", the next
        // EventSource request came no earlier than a second later (50 ms for the two clocks' readings).
        long lastRefusal = -1;
        int checked = 0;
        for (JsonNode n : r.path("net")) {
            boolean probe = "fetch".equals(n.path("type").asText());
            if (probe && "response".equals(n.path("phase").asText()) && n.path("status").asInt() == 503) {
                lastRefusal = n.path("at").asLong();
            } else if (!probe && "request".equals(n.path("phase").asText()) && lastRefusal >= 0) {
                long gap = n.path("at").asLong() - lastRefusal;
                assertTrue(gap >= 950, "an EventSource request " + gap + " ms after a 503 with Retry-After 1: " + r.path("net"));
                lastRefusal = -1;
                checked++;
            }
        }
        assertTrue(checked >= 3, "retries measured on the network: " + checked + " in " + r.path("net"));
        List<String> states = BrowserScript.strings(r.path("states"));
        assertEquals("open", states.get(states.size() - 1), "open again: " + states);
        assertTrue(states.contains("reconnecting"), "it reported reconnecting: " + states);
    }

    /**
     * Typed handlers and topic and type filters deliver only what was asked; close() ends a stream for good,
     * whether open or waiting to retry after a 429; replay_truncated reaches its callback.
     */
    @Test
    void handlersFiltersCloseAndReplayTruncated() throws Exception {
        JsonNode r = BrowserScript.run("client-filters.mjs", Duration.ofSeconds(150), Api.base());

        JsonNode got = r.path("filters").path("got");
        assertEquals(List.of("alpha-t1", "alpha-broadcast"), BrowserScript.strings(got.path("alpha")));
        assertEquals(List.of("beta-t1", "end"), BrowserScript.strings(got.path("beta")));
        assertEquals(List.of("alpha:alpha-t1", "beta:beta-t1", "alpha:alpha-broadcast", "beta:end"),
                BrowserScript.strings(got.path("any")), "no gamma (type filter), nothing of t2 alone (topic filter)");

        JsonNode open = r.path("closeWhileOpen");
        assertEquals("closed", open.path("state").asText());
        assertEquals(0, open.path("requestsAfterClose").asInt(), "no reconnection after close(): " + open);
        assertEquals(0, open.path("serverStreams").asInt(), "the stream is gone on the server: " + open);

        JsonNode waiting = r.path("closeWhileBackingOff");
        JsonNode first = waiting.path("attempts").get(0);
        assertEquals(429, first.path("status").asInt(), "refused at the per-user limit: " + first);
        assertTrue(first.path("floorMs").asLong() >= 1000, "Retry-After honoured: " + first);
        assertEquals("closed", waiting.path("state").asText());
        assertEquals(0, waiting.path("requestsAfterClose").asInt(), "the pending retry was cancelled: " + waiting);
        assertEquals(0, waiting.path("serverStreams").asInt(), "no stream came back: " + waiting);

        JsonNode truncated = r.path("truncated");
        assertEquals(1, truncated.path("callback").size(), "one replay_truncated: " + truncated);
        assertEquals("1-0", truncated.path("callback").get(0).path("requested").asText());
        EventId oldest = EventId.parse(truncated.path("callback").get(0).path("oldest").asText());
        assertTrue(!oldest.isAfter(EventId.parse(truncated.path("heldId").asText())), "oldest held: " + truncated);
        assertEquals(List.of(truncated.path("heldId").asText()), BrowserScript.strings(truncated.path("kept")),
                "what is held is replayed after the callback");
    }
}
