package dev.ssehub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code ./mvnw} on a machine without Maven: it stops with the README's instruction, and following it
 * (here: MVNW_REPOURL pointing at a repository that holds apache-maven) gives a working Maven.
 */
class MvnwTest {

    static final String VERSION = mavenVersion();

    /** Not a JUnit @TempDir: that warns about every link to a command outside it when it cleans up. */
    Path tmp;

    @BeforeEach
    void createTemp() throws IOException {
        tmp = Files.createTempDirectory("mvnw-test-");
    }

    @AfterEach
    void deleteTemp() throws IOException {
        try (Stream<Path> all = Files.walk(tmp)) { // does not follow the links: deletes them, not their targets
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void withoutMavenItPrintsTheReadmeInstruction() throws Exception {
        Result r = mvnw(Map.of());
        assertEquals(1, r.exit(), r.output());
        String readme = Files.readString(Path.of("README.md"));
        for (String way : List.of("Maven 3.6.3 or later", "apt-get install maven", "MVNW_REPOURL",
                "org.apache.maven:apache-maven", "Maven Central or a mirror of it")) {
            assertTrue(r.output().contains(way), "mvnw says " + way + ":\n" + r.output());
            assertTrue(readme.contains(way), "README says " + way);
        }
        assertTrue(r.output().lines().allMatch(l -> l.startsWith("mvnw: ")), r.output());
    }

    @Test
    void withMvnwRepoUrlItFetchesAndRunsMaven() throws Exception {
        Path repo = Path.of(System.getProperty("user.home"), ".m2", "repository");
        Path dist = repo.resolve("org/apache/maven/apache-maven/" + VERSION)
                .resolve("apache-maven-" + VERSION + "-bin.tar.gz");
        if (!Files.isRegularFile(dist)) {
            System.err.println("[SKIPPED] MvnwTest: no " + dist + " to serve as MVNW_REPOURL");
        }
        assumeTrue(Files.isRegularFile(dist), "no " + dist);
        Result r = mvnw(Map.of("MVNW_REPOURL", repo.toUri().toString()));
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("Apache Maven " + VERSION), r.output());
        assertTrue(Files.isExecutable(tmp.resolve("m2/wrapper/dists/apache-maven-" + VERSION + "/bin/mvn")));
    }

    record Result(int exit, String output) {
    }

    /** Runs {@code sh mvnw -v} with an empty Maven user home and a PATH from which every mvn is removed. */
    private Result mvnw(Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("sh", "mvnw", "-v").redirectErrorStream(true);
        pb.environment().remove("MVNW_REPOURL");
        pb.environment().put("MAVEN_USER_HOME", tmp.resolve("m2").toString());
        pb.environment().put("PATH", pathWithoutMaven().toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "mvnw ended");
        return new Result(p.exitValue(), out);
    }

    /** One directory holding links to every command on PATH except Maven's. */
    private Path pathWithoutMaven() throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        for (String dir : System.getenv("PATH").split(File.pathSeparator)) {
            File[] entries = new File(dir).listFiles();
            if (entries == null) {
                continue;
            }
            for (File f : entries) {
                Path link = bin.resolve(f.getName());
                if (!f.getName().startsWith("mvn") && f.canExecute() && !Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createSymbolicLink(link, f.toPath().toAbsolutePath());
                }
            }
        }
        // java as the wrapper's Maven will find it, whatever PATH held.
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Files.deleteIfExists(bin.resolve("java"));
        Files.createSymbolicLink(bin.resolve("java"), java);
        return bin;
    }

    private static String mavenVersion() {
        try {
            return Files.readAllLines(Path.of(".mvn", "wrapper", "maven-wrapper.properties")).stream()
                    .filter(l -> l.startsWith("mavenVersion=")).map(l -> l.substring("mavenVersion=".length()).trim())
                    .findFirst().orElseThrow();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
