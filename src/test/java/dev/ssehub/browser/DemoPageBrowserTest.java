package dev.ssehub.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ssehub.support.Api;
import dev.ssehub.support.BrowserScript;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The demo page at {@code /} in headless Chromium (src/test/browser/demo-page.mjs): it connects and shows
 * {@code open}; events published through the HTTP API appear in its log, within a second of the publish
 * request (measured on this machine's clock from before the POST to the moment the page drew the entry);
 * its stats panel, fed by its own stream, shows a new connection. Screenshot: target/demo-page.png.
 */
@QuarkusTest
class DemoPageBrowserTest {

    @Test
    void demoPageConnectsShowsPublishedEventsAndTheNewConnection() throws Exception {
        BrowserScript.assumeBrowser();
        Api.reset();
        Path shot = Path.of("target", "demo-page.png").toAbsolutePath();
        Files.deleteIfExists(shot);
        JsonNode r = BrowserScript.run("demo-page.mjs", Duration.ofSeconds(120), Api.base(), shot.toString());

        assertEquals("open", r.path("state").asText());
        List<String> ids = BrowserScript.strings(r.path("ids"));
        List<String> shown = BrowserScript.strings(r.path("shown"));
        Collections.reverse(shown); // newest first on the page
        assertEquals(ids.stream().map(id -> "demo_check " + id).toList(), shown,
                "the page shows each published event once, with its type and id, and nothing else as an event");
        assertEquals(0, r.path("controlWithId").asInt(), "control events (heartbeat, stats) carry no id");

        // Within a second: the figure. A loaded machine may delay one event, so the median counts, and
        // none may take more than five.
        List<Long> latencies = new ArrayList<>();
        r.path("latencies").forEach(n -> latencies.add(n.asLong()));
        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        assertTrue(sorted.get(sorted.size() / 2) < 1000, "publish to display, median under a second: " + latencies);
        assertTrue(sorted.get(sorted.size() - 1) < 5000, "publish to display: " + latencies);

        assertEquals(r.path("before").asInt() + 1, r.path("after").asInt(), "the stats panel shows the new connection");
        assertTrue(r.path("totalAfter").asInt() > r.path("totalBefore").asInt(), "streams opened grew: " + r);
        assertEquals(r.path("serverActive").asInt(), r.path("after").asInt(), "the panel agrees with GET /api/sse/stats");
        assertEquals(0, r.path("statsRequests").asInt(), "the panel is fed by the stream, not by polling");
        assertTrue(r.path("streamRequests").get(0).asText().contains("stats=true"), "the page asks for stats: " + r);

        byte[] png = Files.readAllBytes(shot);
        assertTrue(png.length > 10_000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "a screenshot in " + shot);
    }
}
