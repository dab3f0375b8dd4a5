package dev.ssehub.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A kustomize overlay under deploy/kubernetes/ built over the generated manifest, twice: by the test's
 * own strategic merge (the subset kustomize applies to these patches: maps merge key by key, lists of
 * named items such as containers and env merge by name, other values are replaced), which needs nothing
 * installed; and, where {@code kubectl} is on the PATH (it is on this project's machines), by kubectl's
 * built-in kustomize, which must give the same resources. So the overlay is checked on any machine, and
 * the test's merge is held to the real one wherever it runs.
 */
final class Overlay {

    /** The resources the overlay produces, by kind; and how they were built. */
    record Built(Map<String, JsonNode> byKind, String how) {
    }

    private Overlay() {
    }

    static Built build(Path dir, Path generated) throws IOException, InterruptedException {
        JsonNode k = MonitoringAssets.YAML.readTree(Files.readString(dir.resolve("kustomization.yaml")));
        assertEquals("Kustomization", k.path("kind").asText(), dir + ": a Kustomization");
        List<String> resources = new ArrayList<>();
        k.path("resources").forEach(r -> resources.add(r.asText()));
        assertEquals(1, resources.size(), dir + ": one resource, the generated manifest: " + resources);
        assertEquals(generated.toAbsolutePath().normalize(), dir.resolve(resources.get(0)).toAbsolutePath().normalize(),
                dir + ": built over the generated manifest");

        Map<String, JsonNode> merged = readAll(generated);
        for (JsonNode p : k.path("patches")) {
            assertTrue(p.has("path") && !p.has("target"), dir + ": strategic merge patches named by kind and name: " + p);
            JsonNode patch = MonitoringAssets.YAML.readTree(Files.readString(dir.resolve(p.path("path").asText())));
            String kind = patch.path("kind").asText();
            JsonNode base = merged.get(kind);
            assertNotNull(base, p.path("path").asText() + " patches a " + kind + ", which the generated manifest lacks");
            assertEquals(base.path("metadata").path("name"), patch.path("metadata").path("name"), p.path("path").asText() + ": name");
            assertEquals(base.path("apiVersion"), patch.path("apiVersion"), p.path("path").asText() + ": apiVersion");
            merged.put(kind, merge(base.deepCopy(), patch));
        }
        if (!kubectlPresent()) {
            System.err.println("NOTE: kubectl is not on the PATH: " + dir + " was built by the test's own strategic merge "
                    + "only; with kubectl, its built-in kustomize builds it too and the two are compared.");
            return new Built(merged, "the test's strategic merge");
        }
        Map<String, JsonNode> real = kustomize(dir);
        assertEquals(merged.keySet(), real.keySet(), "kinds built by kubectl kustomize");
        for (String kind : merged.keySet()) {
            assertEquals(normalised(merged.get(kind)), normalised(real.get(kind)),
                    kind + ": kubectl kustomize and the test's strategic merge disagree");
        }
        return new Built(real, "kubectl kustomize");
    }

    static Map<String, JsonNode> readAll(Path file) throws IOException {
        Map<String, JsonNode> byKind = new LinkedHashMap<>();
        try (MappingIterator<JsonNode> docs = MonitoringAssets.YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
            while (docs.hasNext()) {
                JsonNode d = docs.next();
                if (d == null || d.isEmpty()) {
                    continue;
                }
                assertEquals(null, byKind.put(d.path("kind").asText(), d), file + ": one " + d.path("kind").asText());
            }
        }
        return byKind;
    }

    /** Strategic merge of {@code patch} into {@code base} (modified and returned). */
    static JsonNode merge(JsonNode base, JsonNode patch) {
        if (!(base instanceof ObjectNode b) || !patch.isObject()) {
            return patch.deepCopy();
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode old = b.get(e.getKey());
            if (old == null) {
                b.set(e.getKey(), e.getValue().deepCopy());
            } else if (old.isArray() && e.getValue().isArray() && named(old) && named(e.getValue())) {
                ArrayNode out = b.putArray(e.getKey());
                Map<String, JsonNode> byName = new LinkedHashMap<>();
                old.forEach(item -> byName.put(item.path("name").asText(), item.deepCopy()));
                e.getValue().forEach(item -> byName.merge(item.path("name").asText(), item.deepCopy(), Overlay::merge));
                byName.values().forEach(out::add);
            } else {
                b.set(e.getKey(), merge(old, e.getValue()));
            }
        }
        return b;
    }

    private static boolean named(JsonNode list) {
        if (list.isEmpty()) {
            return false;
        }
        for (JsonNode item : list) {
            if (!item.isObject() || !item.path("name").isTextual()) {
                return false;
            }
        }
        return true;
    }

    /** Lists of named items in name order (kustomize and the test's merge order them differently). */
    static JsonNode normalised(JsonNode n) {
        if (n.isObject()) {
            ObjectNode out = MonitoringAssets.JSON.createObjectNode();
            n.fields().forEachRemaining(e -> out.set(e.getKey(), normalised(e.getValue())));
            return out;
        }
        if (n.isArray()) {
            List<JsonNode> items = new ArrayList<>();
            n.forEach(i -> items.add(normalised(i)));
            if (named(n)) {
                items.sort((x, y) -> x.path("name").asText().compareTo(y.path("name").asText()));
            }
            ArrayNode out = MonitoringAssets.JSON.createArrayNode();
            items.forEach(out::add);
            return out;
        }
        return n;
    }

    static boolean kubectlPresent() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "kubectl"))) {
                return true;
            }
        }
        return false;
    }

    /** {@code kubectl kustomize} of the overlay, as the docs tell operators to build it. */
    private static Map<String, JsonNode> kustomize(Path dir) throws IOException, InterruptedException {
        Path out = Files.createTempFile("sse-hub-kustomize", ".yml");
        Path err = Files.createTempFile("sse-hub-kustomize", ".err");
        try {
            Process p = new ProcessBuilder("kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone", dir.toString())
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("kubectl kustomize did not finish within 60 s");
            }
            assertEquals(0, p.exitValue(), "kubectl kustomize " + dir + ":\n" + Files.readString(err, StandardCharsets.UTF_8));
            return readAll(out);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
