package dev.ssehub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The package rules of docs/architecture.md, checked on the sources: which of the service's packages
 * each package may import, and that the domain sees no HTTP, Vert.x or Netty type.
 */
class ArchitectureTest {

    private static final Path SOURCES = Path.of("src", "main", "java", "dev", "ssehub");
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?([\\w.]+)", Pattern.MULTILINE);

    /** The table of docs/architecture.md. */
    private static final Map<String, Set<String>> MAY_IMPORT = Map.of(
            "api", Set.of("hub", "transport", "config", "observability", "security"),
            "lifecycle", Set.of("hub", "config"),
            "observability", Set.of("hub", "transport", "lifecycle", "config"),
            "backplane", Set.of("hub", "config"),
            "transport", Set.of("hub"),
            "config", Set.of("hub"),
            "security", Set.of("hub", "config"),
            "hub", Set.of());

    @Test
    void packagesImportOnlyWhatTheArchitectureAllows() throws IOException {
        List<String> violations = new ArrayList<>();
        List<String> packages;
        try (Stream<Path> dirs = Files.list(SOURCES)) {
            packages = dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(MAY_IMPORT.keySet().stream().sorted().toList(), packages,
                "every package has a row in docs/architecture.md");
        for (String pkg : packages) {
            for (Path file : javaFiles(SOURCES.resolve(pkg))) {
                for (String imported : imports(file)) {
                    if (imported.startsWith("dev.ssehub.")) {
                        String target = imported.split("\\.")[2];
                        if (!target.equals(pkg) && !MAY_IMPORT.get(pkg).contains(target)) {
                            violations.add(file + " imports " + imported);
                        }
                    }
                    if (pkg.equals("hub") && (imported.startsWith("io.vertx") || imported.startsWith("io.netty")
                            || imported.startsWith("jakarta.ws.rs") || imported.startsWith("io.micrometer"))) {
                        violations.add(file + " (the domain) imports " + imported);
                    }
                }
            }
        }
        assertTrue(violations.isEmpty(), String.join("\n", violations));
    }

    private static List<Path> javaFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".java")).toList();
        }
    }

    private static List<String> imports(Path file) throws IOException {
        Matcher m = IMPORT.matcher(Files.readString(file));
        List<String> out = new ArrayList<>();
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }
}
