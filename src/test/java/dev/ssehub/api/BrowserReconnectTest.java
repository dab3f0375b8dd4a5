package dev.ssehub.api;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ssehub.support.Api;
import io.quarkus.test.junit.QuarkusTest;

/**
 * A real browser: headless Chromium's own EventSource, killed server-side, reconnects by itself with
 * Last-Event-ID and ends up with every event exactly once, including those published while it was away.
 */
@QuarkusTest
class BrowserReconnectTest {

    static final Path DIR = Path.of("src", "test", "browser");
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeEach
    void reset() {
        Api.reset();
    }

    @Test
    void eventSourceResumesAfterServerSideKillWithEveryEventOnce() throws Exception {
        String chromium = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
        List<String> missing = new ArrayList<>();
        if (!new File(chromium).canExecute()) {
            missing.add("Chromium at " + chromium + " (install it: apt-get install chromium)");
        }
        if (!Files.isDirectory(DIR.resolve("node_modules").resolve("playwright-core"))) {
            missing.add("playwright-core (install it: npm install --prefix src/test/browser --no-package-lock)");
        }
        skipUnlessEmpty(missing);

        Process node = new ProcessBuilder("node", "reconnect.mjs", Api.base(), "userId=browser")
                .directory(DIR.toFile()).redirectErrorStream(true).start();
        BlockingQueue<JsonNode> lines = new LinkedBlockingQueue<>();
        List<String> raw = new ArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    raw.add(line);
                    if (line.startsWith("{")) {
                        lines.add(JSON.readTree(line));
                    }
                }
            } catch (Exception ignored) {
                // node ended
            }
        }, "browser-output");
        reader.setDaemon(true);
        reader.start();
        try {
            List<String> published = new ArrayList<>();
            List<String> seen = new ArrayList<>();
            String first = await(lines, "established", seen, raw).get("data").get("clientId").textValue();
            for (int i = 0; i < 5; i++) {
                published.add(Api.publish("{\"type\":\"browser_evt\",\"data\":" + i + "}").getString("id"));
            }
            while (seen.size() < 5) {
                await(lines, "event", seen, raw);
            }
            // Kill it server-side, then publish while the browser is away (it waits sse.retry = 3 s).
            given().delete("/api/sse/connections/" + first).then().statusCode(204);
            for (int i = 5; i < 10; i++) {
                published.add(Api.publish("{\"type\":\"browser_evt\",\"data\":" + i + "}").getString("id"));
            }
            String second = await(lines, "established", seen, raw).get("data").get("clientId").textValue();
            assumeTrue(!second.equals(first));
            for (int i = 10; i < 12; i++) {
                published.add(Api.publish("{\"type\":\"browser_evt\",\"data\":" + i + "}").getString("id"));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (seen.size() < published.size() && System.nanoTime() < deadline) {
                await(lines, "event", seen, raw);
            }
            // Anything extra (a duplicate) would arrive right behind: give it a moment.
            JsonNode extra = lines.poll(700, TimeUnit.MILLISECONDS);
            while (extra != null) {
                if ("event".equals(extra.get("kind").textValue())) {
                    seen.add(extra.get("id").textValue());
                }
                extra = lines.poll(200, TimeUnit.MILLISECONDS);
            }
            assertEquals(published, seen, "the page saw every event exactly once, in order");
        } finally {
            node.getOutputStream().close();
            if (!node.waitFor(10, TimeUnit.SECONDS)) {
                node.destroyForcibly();
            }
        }
    }

    /**
     * Skips the test while something it needs is missing, saying what and how to install it on the console
     * too: the JUnit skip reason alone ends up in a surefire report, where nobody running {@code ./mvnw verify}
     * looks.
     */
    private static void skipUnlessEmpty(List<String> missing) {
        String why = "Browser test skipped: no " + String.join(" and no ", missing);
        if (!missing.isEmpty()) {
            System.err.println("[SKIPPED] " + why);
        }
        assumeTrue(missing.isEmpty(), why);
    }

    /** The next line of this kind; event lines met on the way are recorded in {@code seen}. */
    private static JsonNode await(BlockingQueue<JsonNode> lines, String kind, List<String> seen, List<String> raw)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode n = lines.poll(200, TimeUnit.MILLISECONDS);
            if (n == null) {
                continue;
            }
            String k = n.get("kind").textValue();
            if ("failed".equals(k) || "timeout".equals(k)) {
                throw new AssertionError("browser script: " + n + "\n" + String.join("\n", raw));
            }
            if ("event".equals(k)) {
                seen.add(n.get("id").textValue());
            }
            if (kind.equals(k)) {
                return n;
            }
        }
        throw new AssertionError("no '" + kind + "' from the browser within 30 s:\n" + String.join("\n", raw));
    }
}
