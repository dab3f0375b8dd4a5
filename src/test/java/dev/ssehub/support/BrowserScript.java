package dev.ssehub.support;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Runs one of the scripts of {@code src/test/browser} (node, playwright-core, Debian's chromium) and returns
 * what it reported: one JSON object per line, the last of kind {@code result}. Skips the test, saying what to
 * install, when chromium, node or playwright-core is missing ({@code .ci/run} installs them, so CI skips nothing).
 */
public final class BrowserScript {

    public static final Path DIR = Path.of("src", "test", "browser");
    private static final ObjectMapper JSON = new ObjectMapper();

    private BrowserScript() {
    }

    /** Skips the calling test unless a browser test can run here. */
    public static void assumeBrowser() {
        String chromium = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
        assumeTrue(new File(chromium).canExecute(),
                "Browser test skipped: no Chromium at " + chromium + " (install it: apt-get install chromium)");
        assumeTrue(onPath("node"), "Browser test skipped: no node on the PATH (install it: apt-get install nodejs npm)");
        assumeTrue(Files.isDirectory(DIR.resolve("node_modules").resolve("playwright-core")),
                "Browser test skipped: playwright-core missing (install it: npm install --prefix src/test/browser "
                        + "--no-audit --no-fund --no-package-lock)");
    }

    /** Runs the script with these arguments and returns its result line; fails with its whole output otherwise. */
    public static JsonNode run(String script, Duration timeout, String... args) throws Exception {
        assumeBrowser();
        List<String> command = new ArrayList<>(List.of("node", script));
        command.addAll(List.of(args));
        Process node = new ProcessBuilder(command).directory(DIR.toFile()).redirectErrorStream(true).start();
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    lines.add(line);
                }
            } catch (Exception ignored) {
                // node ended
            }
        }, "browser-script-output");
        reader.setDaemon(true);
        reader.start();
        try {
            if (!node.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                throw new AssertionError(script + " did not finish within " + timeout + ":\n" + String.join("\n", lines));
            }
            reader.join(5000);
            JsonNode result = null;
            synchronized (lines) {
                for (String line : lines) {
                    if (line.startsWith("{")) {
                        JsonNode n = JSON.readTree(line);
                        if ("result".equals(n.path("kind").asText())) {
                            result = n;
                        }
                    }
                }
            }
            if (node.exitValue() != 0 || result == null) {
                throw new AssertionError(script + " exited with " + node.exitValue() + ":\n" + String.join("\n", lines));
            }
            return result;
        } finally {
            if (node.isAlive()) {
                node.destroyForcibly();
            }
        }
    }

    /** The strings of a JSON array. */
    public static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static boolean onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}
