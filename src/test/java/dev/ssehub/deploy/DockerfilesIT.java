package dev.ssehub.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Dockerfiles under src/main/docker against what {@code ./mvnw package} produced (no Docker engine
 * runs here): every path they copy exists and is in the build context .dockerignore leaves, that context
 * holds nothing else, the images run as a numeric non-root user, expose the service's port, and name
 * no registry. Runs after {@code package} (failsafe).
 */
class DockerfilesIT {

    static final Path ROOT = Path.of("").toAbsolutePath();
    static final List<String> DOCKERFILES = List.of("Dockerfile.jvm", "Dockerfile.native", "Dockerfile.native-micro");

    /** What the native build writes (failsafe's native.image.path: target/<finalName>-runner). */
    static Path nativeRunner() {
        String p = System.getProperty("native.image.path");
        assertTrue(p != null && !p.isEmpty(), "failsafe passes native.image.path");
        return ROOT.relativize(Path.of(p).toAbsolutePath());
    }

    static List<Path> matches(String source) throws IOException {
        String glob = source.endsWith("/") ? source.substring(0, source.length() - 1) : source;
        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + glob);
        Path top = Path.of(glob.contains("*") ? glob.substring(0, glob.lastIndexOf('/', glob.indexOf('*'))) : glob);
        if (!Files.exists(top)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(top, glob.contains("*") ? 1 : 0)) {
            return s.filter(m::matches).toList();
        }
    }

    @Test
    void jvmImageCopiesTheWholeFastJarLayout() throws IOException {
        Path app = Path.of("target", "quarkus-app");
        assertTrue(Files.isRegularFile(app.resolve("quarkus-run.jar")), app + " is missing: this test runs after ./mvnw package");
        List<Path> copied = new ArrayList<>();
        for (Dockerfile.Copy c : Dockerfile.read("Dockerfile.jvm").copies()) {
            assertFalse(c.flags().containsKey("from"), "no build stage: the image takes what ./mvnw package built");
            for (String source : c.sources()) {
                List<Path> found = matches(source);
                assertFalse(found.isEmpty(), "Dockerfile.jvm copies " + source + ", which ./mvnw package did not produce");
                if (source.endsWith("/")) {
                    assertTrue(Files.isDirectory(found.get(0)), source + " is a directory");
                }
                copied.addAll(found);
            }
            assertEquals("185", c.flags().get("chown"), "files owned by the image's user: " + c);
        }
        try (Stream<Path> entries = Files.list(app)) {
            List<Path> missing = entries.filter(e -> !e.getFileName().toString().endsWith(".txt"))
                    .filter(e -> !copied.contains(e)).toList();
            assertTrue(missing.isEmpty(), "parts of the fast-jar layout the image leaves out: " + missing);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "Dockerfile.native", "Dockerfile.native-micro" })
    void nativeImagesCopyTheExecutableTheNativeBuildWrites(String name) throws IOException {
        Path runner = nativeRunner();
        List<Dockerfile.Copy> copies = Dockerfile.read(name).copies();
        assertEquals(1, copies.size(), name + " copies the executable only");
        Dockerfile.Copy c = copies.get(0);
        assertEquals("/work/application", c.destination());
        assertEquals("0755", c.flags().get("chmod"));
        assertEquals(1, c.sources().size());
        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + c.sources().get(0));
        assertTrue(m.matches(runner), name + ": " + c.sources().get(0) + " matches " + runner);
        if (Files.exists(runner)) {
            assertEquals(List.of(runner), matches(c.sources().get(0)), name + ": exactly one executable to copy");
        } else {
            System.err.println(name + ": " + runner + " does not exist (a JVM build); build it with ./mvnw package -Dnative");
        }
    }

    @Test
    void buildContextHoldsWhatTheDockerfilesCopyAndNothingElse() throws IOException {
        DockerIgnore ignore = DockerIgnore.read(Path.of(".dockerignore"));
        List<String> copiedGlobs = new ArrayList<>();
        for (String name : DOCKERFILES) {
            for (Dockerfile.Copy c : Dockerfile.read(name).copies()) {
                copiedGlobs.addAll(c.sources());
            }
        }
        // Every file the Dockerfiles copy is sent to the builder.
        for (String source : copiedGlobs) {
            for (Path p : matches(source)) {
                try (Stream<Path> files = Files.walk(p)) {
                    files.filter(Files::isRegularFile).forEach(f -> assertTrue(ignore.included(unix(f)),
                            ".dockerignore leaves out " + f + ", which " + source + " copies"));
                }
            }
        }
        assertTrue(ignore.included(unix(nativeRunner())), ".dockerignore leaves out the native executable");
        // Nothing else is: no sources, no .git, no benchmarks, no other build output.
        List<String> extra = new ArrayList<>();
        try (Stream<Path> all = Files.walk(Path.of(""))) {
            all.filter(Files::isRegularFile).map(DockerfilesIT::unix)
                    .filter(f -> !f.equals(".dockerignore"))
                    .filter(ignore::included)
                    .filter(f -> !f.startsWith("target/quarkus-app/") && !f.equals(unix(nativeRunner())))
                    .limit(20).forEach(extra::add);
        }
        assertTrue(extra.isEmpty(), "the build context carries files no Dockerfile copies: " + extra);
        for (String p : List.of("pom.xml", "src/main/java/dev/ssehub/hub/Hub.java", ".git", "bench/sseload.c",
                "target/classes/application.properties", "node_modules/x/index.js")) {
            assertFalse(ignore.included(p), ".dockerignore keeps " + p + " out");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "Dockerfile.jvm", "Dockerfile.native", "Dockerfile.native-micro" })
    void imagesRunAsNonRootExposeTheServicePortAndNameNoRegistry(String name) throws IOException {
        Dockerfile d = Dockerfile.read(name);
        List<String> users = d.all("USER");
        String user = users.get(users.size() - 1);
        assertTrue(user.matches("\\d+(:\\d+)?"), name + ": numeric USER (runAsNonRoot can check it): " + user);
        assertNotEquals("0", user.split(":")[0], name + ": not root");

        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(Path.of("src", "main", "resources", "application.properties"))) {
            props.load(in);
        }
        assertEquals(List.of(props.getProperty("quarkus.http.port")), d.all("EXPOSE"), name + ": EXPOSE");

        // The base image's registry is a build argument: no registry host is written into the repository.
        assertEquals("ARG", d.instructions.get(0).keyword(), name + ": ARG REGISTRY comes before FROM");
        assertEquals("REGISTRY", d.instructions.get(0).args(), name + ": REGISTRY has no default");
        for (String from : d.all("FROM")) {
            assertTrue(from.startsWith("${REGISTRY}/"), name + ": FROM " + from);
            assertTrue(from.matches("\\$\\{REGISTRY}/[a-z0-9][a-z0-9./_-]*:[A-Za-z0-9._-]+"), name + ": pinned tag: " + from);
        }
        assertFalse(d.all("ENTRYPOINT").isEmpty(), name + ": ENTRYPOINT");
    }

    @ParameterizedTest
    @ValueSource(strings = { "Dockerfile.native", "Dockerfile.native-micro" })
    void nativeEntrypointRaisesTheOpenFilesSoftLimitAndPassesArguments(String name) throws Exception {
        List<String> entrypoint = new ArrayList<>();
        MonitoringAssets.JSON.readTree(Dockerfile.read(name).all("ENTRYPOINT").get(0)).forEach(n -> entrypoint.add(n.asText()));
        assertEquals("/bin/sh", entrypoint.get(0), name + ": a shell raises the limit, then execs the service");
        assertEquals("/work/", Dockerfile.read(name).all("WORKDIR").get(0));
        String hard = sh("ulimit -H -n").strip();
        Assumptions.assumeTrue(hard.matches("\\d+") && Long.parseLong(hard) > 256, "hard open-files limit here: " + hard);

        // The entrypoint as the container runs it, from /work, with a stand-in ./application that reports
        // what it got, started with a low soft limit (as some container runtimes set).
        Path work = Files.createTempDirectory("sse-hub-entrypoint");
        Path app = work.resolve("application");
        try {
            Files.writeString(app, "#!/bin/sh\necho \"soft=$(ulimit -S -n) args=$*\"\n");
            app.toFile().setExecutable(true);
            List<String> command = new ArrayList<>(List.of("/bin/sh", "-c", "ulimit -S -n 256 && exec \"$@\"", "lower"));
            command.addAll(entrypoint);
            command.addAll(List.of("-Dquarkus.http.port=9999", "two words"));
            Process p = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true).start();
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertEquals("soft=" + hard + " args=-Dquarkus.http.port=9999 two words", out, name + " entrypoint");
        } finally {
            Files.deleteIfExists(app);
            Files.deleteIfExists(work);
        }
    }

    static String sh(String script) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", script).redirectErrorStream(true).start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    static String unix(Path p) {
        return p.normalize().toString().replace('\\', '/');
    }
}
