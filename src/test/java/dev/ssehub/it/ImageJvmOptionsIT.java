package dev.ssehub.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import dev.ssehub.deploy.Dockerfile;
import dev.ssehub.support.SseClient;

/**
 * The JVM options the JVM image sets (JAVA_OPTS_APPEND in src/main/docker/Dockerfile.jvm) are ones this
 * JVM accepts and applies, and the packaged service runs with them: a typo there would stop every
 * container at start, and an option the JVM ignores would not do what docs/performance.md measured.
 */
class ImageJvmOptionsIT {

    static List<String> imageOptions() throws Exception {
        String opts = Dockerfile.read("Dockerfile.jvm").env().get("JAVA_OPTS_APPEND");
        assertTrue(opts != null && !opts.isBlank(), "Dockerfile.jvm sets JAVA_OPTS_APPEND");
        return Arrays.asList(opts.trim().split("\\s+"));
    }

    @Test
    void theJvmAppliesEveryOptionOfTheImage() throws Exception {
        List<String> options = imageOptions();
        // The options docs/performance.md measured best for many idle streams, and a heap ceiling.
        for (String needed : List.of("-XX:+UseParallelGC", "-XX:MinHeapFreeRatio=5", "-XX:MaxHeapFreeRatio=10")) {
            assertTrue(options.contains(needed), "JAVA_OPTS_APPEND has " + needed + ": " + options);
        }
        assertTrue(options.stream().anyMatch(o -> o.startsWith("-XX:MaxRAMPercentage=")), "a heap ceiling: " + options);

        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(options);
        command.addAll(List.of("-XX:+PrintFlagsFinal", "-version"));
        Path out = Files.createTempFile("sse-hub-flags", ".txt");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "java -version finished");
            String text = Files.readString(out, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), "the JVM refuses an option of the image:\n" + text);
            Map<String, String> flags = new HashMap<>();
            Matcher m = Pattern.compile("^\\s*\\S+\\s+(\\w+)\\s+:?=\\s+(\\S+)", Pattern.MULTILINE).matcher(text);
            while (m.find()) {
                flags.put(m.group(1), m.group(2));
            }
            for (String o : options) {
                if (o.startsWith("-XX:+") || o.startsWith("-XX:-")) {
                    assertEquals(o.startsWith("-XX:+") ? "true" : "false", flags.get(o.substring(5)), o);
                } else if (o.startsWith("-XX:")) {
                    String[] kv = o.substring(4).split("=", 2);
                    assertEquals(Double.parseDouble(kv[1]), Double.parseDouble(flags.get(kv[0])), o);
                } else if (o.startsWith("-Xms")) {
                    assertEquals(bytes(o.substring(4)), Long.parseLong(flags.get("InitialHeapSize")), o);
                } else {
                    assertTrue(o.startsWith("-D"), "an option this test knows how to check: " + o);
                }
            }
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /**
     * Started as a container runtime may start it, with a low soft limit of open files, the JVM raises it
     * to the hard limit (what Dockerfile.jvm and docs/deployment.md rely on), and serves.
     */
    @Test
    void theServiceRunsWithTheImagesOptionsAndRaisesItsOpenFilesLimit() throws Exception {
        String hard = sh("ulimit -H -n").strip();
        List<String> lowSoftLimit = List.of("/bin/sh", "-c", "ulimit -S -n 256 && exec \"$@\"", "launcher");
        try (ServiceProcess svc = ServiceProcess.start(lowSoftLimit, imageOptions(), ServiceProcess.OPEN)) {
            svc.awaitReady(Duration.ofSeconds(30));
            HttpResponse<String> metrics = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(svc.base() + "/q/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            Matcher max = Pattern.compile("(?m)^process_files_max_files(?:\\{[^}]*})? (\\S+)$").matcher(metrics.body());
            assertTrue(max.find(), "process_files_max_files exported");
            if (hard.matches("\\d+")) {
                assertEquals(Double.parseDouble(hard), Double.parseDouble(max.group(1)), "the JVM raised its soft limit 256 to the hard limit");
            }
            try (SseClient c = SseClient.connect(svc.base() + "/api/sse/stream?userId=jvm")) {
                c.await("connection_established", Duration.ofSeconds(5));
                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(svc.base() + "/api/sse/events"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"flags\",\"data\":1}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(202, r.statusCode(), r.body());
                assertEquals("1", c.await("flags", Duration.ofSeconds(5)).data());
            }
        }
    }

    static String sh(String script) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", script).redirectErrorStream(true).start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    static long bytes(String size) {
        char unit = Character.toLowerCase(size.charAt(size.length() - 1));
        long n = Long.parseLong(Character.isDigit(unit) ? size : size.substring(0, size.length() - 1));
        return switch (unit) {
            case 'k' -> n << 10;
            case 'm' -> n << 20;
            case 'g' -> n << 30;
            default -> n;
        };
    }
}
