package dev.ssehub.deploy;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * The Kubernetes manifest quarkus-kubernetes generated at package time
 * ({@code target/kubernetes/kubernetes.yml}) holds what docs/deployment.md promises: probes on the
 * health endpoints and the service's port (and those answer on the packaged application), resources
 * sized from docs/performance.md, a grace period that outlasts the drain, a PodDisruptionBudget, an HPA,
 * Prometheus scrape annotations; and the ingress example agrees with it. The overlay for several
 * replicas on Redis ({@code deploy/kubernetes/redis-replicas}), built over it, holds to the same rules,
 * and changes only the backplane, the Redis address (from a Secret) and the HPA's range.
 */
@QuarkusIntegrationTest
class KubernetesManifestIT {

    static final Path MANIFEST = Path.of("target", "kubernetes", "kubernetes.yml");
    static final Path INGRESS = Path.of("deploy", "kubernetes", "ingress-nginx.yml");
    static final Path REDIS_REPLICAS = Path.of("deploy", "kubernetes", "redis-replicas");

    /** One set of resources to apply: the generated manifest, or an overlay's build of it. */
    record Manifest(String name, Map<String, JsonNode> byKind) {
        JsonNode deployment() {
            JsonNode d = byKind.get("Deployment");
            assertNotNull(d, name + ": a Deployment in " + byKind.keySet());
            return d;
        }

        JsonNode pod() {
            return deployment().path("spec").path("template");
        }

        JsonNode container() {
            assertEquals(1, pod().path("spec").path("containers").size(), name + ": one container");
            return pod().path("spec").path("containers").get(0);
        }

        /** The container's environment: literal values, or "secret:<name>/<key>" for a secretKeyRef. */
        Map<String, String> env() {
            Map<String, String> env = new HashMap<>();
            container().path("env").forEach(e -> {
                JsonNode secret = e.path("valueFrom").path("secretKeyRef");
                String value = secret.isMissingNode() ? e.path("value").asText()
                        : "secret:" + secret.path("name").asText() + "/" + secret.path("key").asText();
                assertEquals(null, env.put(e.path("name").asText(), value), name + ": one " + e.path("name").asText());
            });
            return env;
        }

        JsonNode kind(String kind) {
            JsonNode k = byKind.get(kind);
            assertNotNull(k, name + ": a " + kind + " in " + byKind.keySet());
            return k;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Manifest generated;
    static Manifest redisReplicas;
    static Properties props;

    @BeforeAll
    static void load() throws Exception {
        assertTrue(Files.isRegularFile(MANIFEST), MANIFEST + " is missing: quarkus-kubernetes writes it at ./mvnw package, "
                + "before this test (failsafe). Is io.quarkus:quarkus-kubernetes still in pom.xml?");
        generated = new Manifest("generated " + MANIFEST, Overlay.readAll(MANIFEST));
        Overlay.Built built = Overlay.build(REDIS_REPLICAS, MANIFEST);
        redisReplicas = new Manifest(REDIS_REPLICAS + " (built by " + built.how() + ")", built.byKind());
        for (Manifest m : List.of(generated, redisReplicas)) {
            m.byKind().forEach((kind, d) -> assertEquals("sse-hub", d.path("metadata").path("name").asText(),
                    m + ": name of the " + kind));
        }
        props = new Properties();
        try (InputStream in = Files.newInputStream(Path.of("src", "main", "resources", "application.properties"))) {
            props.load(in);
        }
    }

    static Stream<Manifest> manifests() throws Exception {
        return Stream.of(generated, redisReplicas);
    }

    @ParameterizedTest
    @MethodSource("manifests")
    void resourcesAreTheDeploymentServicePdbAndHpaOnly(Manifest m) {
        // No ServiceMonitor: `kubectl apply` must work on a cluster without the Prometheus Operator. No
        // Secret either: the Redis address is the operator's (docs/deployment.md).
        assertEquals(Set.of("Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"), m.byKind().keySet(),
                m.name());
        assertEquals("apps/v1", m.deployment().path("apiVersion").asText());
    }

    @ParameterizedTest
    @MethodSource("manifests")
    void probesUseTheHealthEndpointsOnTheServicePortAndAnswerThere(Manifest m) {
        JsonNode container = m.container();
        int port = Integer.parseInt(props.getProperty("quarkus.http.port"));
        JsonNode http = portNamed(container.path("ports"), "http");
        assertEquals(port, http.path("containerPort").asInt(), "container port = quarkus.http.port");
        Map<String, String> paths = Map.of("startupProbe", "/q/health/started", "livenessProbe", "/q/health/live",
                "readinessProbe", "/q/health/ready");
        paths.forEach((probe, path) -> {
            JsonNode get = container.path(probe).path("httpGet");
            assertEquals(path, get.path("path").asText(), probe + " path");
            assertTrue(get.path("port").asInt() == port || get.path("port").asText().equals("http"), probe + " port: " + get.path("port"));
            assertEquals("HTTP", get.path("scheme").asText(), probe + " scheme");
            assertTrue(container.path(probe).path("timeoutSeconds").asInt() < container.path(probe).path("periodSeconds").asInt()
                    || probe.equals("startupProbe"), probe + ": a probe ends before the next one starts");
            // The packaged application answers each probe (test profile, started by @QuarkusIntegrationTest).
            given().get(path).then().statusCode(200).body("status", equalTo("UP"));
        });
        JsonNode startup = container.path("startupProbe");
        assertTrue(startup.path("periodSeconds").asInt() * startup.path("failureThreshold").asInt() >= 30,
                "start-up allowed at least 30 s");
        // Readiness, not liveness, reacts to load: liveness only fails when the heartbeat tick stops.
        assertTrue(container.path("livenessProbe").path("failureThreshold").asInt() >= 3, "liveness tolerates a slow answer");
    }

    @ParameterizedTest
    @MethodSource("manifests")
    void resourcesAreSizedForSseMaxClientsStreams(Manifest m) {
        long streams = Long.parseLong(m.env().get("SSE_MAX_CLIENTS"));
        JsonNode res = m.container().path("resources");
        long memRequest = bytes(res.path("requests").path("memory").asText());
        long memLimit = bytes(res.path("limits").path("memory").asText());
        // docs/performance.md: about 150 MiB + 10 KiB per stream for the JVM with the image's options.
        long needed = (150L << 20) + streams * (10L << 10);
        assertTrue(memRequest >= needed, "memory request " + memRequest + " >= " + needed + " for " + streams + " streams");
        assertTrue(memLimit >= memRequest, "memory limit >= request");
        long cpuRequest = millicores(res.path("requests").path("cpu").asText());
        long cpuLimit = millicores(res.path("limits").path("cpu").asText());
        assertTrue(cpuRequest >= 500 && cpuLimit >= cpuRequest, "cpu request " + cpuRequest + "m, limit " + cpuLimit + "m");
    }

    @ParameterizedTest
    @MethodSource("manifests")
    void gracePeriodOutlastsTheDrainTheShutdownTimeoutAndReadinessDetection(Manifest m) {
        long drain = seconds(m.env().get("SSE_SHUTDOWN_DRAIN"));
        String delay = props.getProperty("quarkus.shutdown.delay");
        assertEquals("${sse.shutdown.drain:5s}", delay, "the shutdown delay is the drain");
        long shutdownTimeout = seconds(props.getProperty("quarkus.shutdown.timeout"));
        JsonNode ready = m.container().path("readinessProbe");
        long readinessDetection = ready.path("periodSeconds").asLong() * ready.path("failureThreshold").asLong();
        long grace = m.pod().path("spec").path("terminationGracePeriodSeconds").asLong();
        assertTrue(grace > drain + shutdownTimeout + readinessDetection, "terminationGracePeriodSeconds " + grace + " > drain " + drain
                + " + shutdown timeout " + shutdownTimeout + " + readiness " + readinessDetection);
    }

    @ParameterizedTest
    @MethodSource("manifests")
    void rollingUpdatesStartTheNewPodFirstAndSelectorsSurviveANewVersion(Manifest m) {
        JsonNode deployment = m.deployment();
        JsonNode strategy = deployment.path("spec").path("strategy");
        assertEquals("RollingUpdate", strategy.path("type").asText());
        assertEquals("0", strategy.path("rollingUpdate").path("maxUnavailable").asText());
        assertEquals("1", strategy.path("rollingUpdate").path("maxSurge").asText());
        JsonNode podLabels = m.pod().path("metadata").path("labels");
        for (JsonNode selector : List.of(deployment.path("spec").path("selector").path("matchLabels"),
                m.kind("Service").path("spec").path("selector"),
                m.kind("PodDisruptionBudget").path("spec").path("selector").path("matchLabels"))) {
            assertTrue(selector.size() > 0, "a selector");
            selector.fields().forEachRemaining(e -> assertEquals(e.getValue().asText(), podLabels.path(e.getKey()).asText(),
                    "pods carry the selector's " + e.getKey()));
            assertFalse(selector.has("app.kubernetes.io/version"), "no version in a selector: " + selector);
        }
        JsonNode sec = m.pod().path("spec").path("securityContext");
        assertTrue(sec.path("runAsNonRoot").asBoolean(), "runAsNonRoot");
        assertFalse(m.container().path("securityContext").path("allowPrivilegeEscalation").asBoolean(true), "no privilege escalation");
        String image = m.container().path("image").asText();
        assertTrue(image.startsWith("sse-hub:"), "default image " + image + " (no registry written into the build)");
    }

    @ParameterizedTest
    @MethodSource("manifests")
    void podsAndServiceCarryPrometheusScrapeAnnotations(Manifest m) {
        String port = String.valueOf(portNamed(m.container().path("ports"), "http").path("containerPort").asInt());
        for (JsonNode annotations : List.of(m.pod().path("metadata").path("annotations"),
                m.kind("Service").path("metadata").path("annotations"))) {
            assertEquals("true", annotations.path("prometheus.io/scrape").asText(), annotations.toString());
            assertEquals("/q/metrics", annotations.path("prometheus.io/path").asText());
            assertEquals(port, annotations.path("prometheus.io/port").asText());
        }
        given().get("/q/metrics").then().statusCode(200);
    }

    @ParameterizedTest
    @MethodSource("manifests")
    void disruptionBudgetAndAutoscalerMatchTheBackplane(Manifest m) {
        JsonNode pdb = m.kind("PodDisruptionBudget");
        assertEquals("policy/v1", pdb.path("apiVersion").asText());
        int maxUnavailable = pdb.path("spec").path("maxUnavailable").asInt();
        assertEquals(1, maxUnavailable, "one pod at a time");
        assertFalse(pdb.path("spec").has("minAvailable"), "minAvailable would block draining a single replica's node");

        JsonNode hpa = m.kind("HorizontalPodAutoscaler");
        assertEquals("autoscaling/v2", hpa.path("apiVersion").asText());
        JsonNode target = hpa.path("spec").path("scaleTargetRef");
        assertEquals("Deployment", target.path("kind").asText());
        assertEquals(m.deployment().path("metadata").path("name").asText(), target.path("name").asText());
        List<String> metrics = new ArrayList<>();
        hpa.path("spec").path("metrics").forEach(x -> metrics.add(x.path("type").asText() + ":" + x.path("resource").path("name").asText()));
        assertTrue(metrics.contains("Resource:cpu"), "scales on CPU: " + metrics);
        assertFalse(m.container().path("resources").path("requests").path("cpu").isMissingNode(), "CPU utilisation needs a CPU request");
        int min = hpa.path("spec").path("minReplicas").asInt();
        int max = hpa.path("spec").path("maxReplicas").asInt();
        assertTrue(min >= 1 && max >= min, "replicas " + min + ".." + max);
        JsonNode spec = m.deployment().path("spec");
        assertFalse(spec.has("replicas") && (spec.path("replicas").asInt() > max || spec.path("replicas").asInt() < min),
                "the Deployment's replicas within the HPA's range");
        // Several replicas only share events over the Redis backplane.
        String backplane = m.env().get("SSE_BACKPLANE");
        if (!"redis".equals(backplane)) {
            assertEquals(1, max, m + ": SSE_BACKPLANE=" + backplane + ": one replica at most");
        } else {
            assertTrue(m.env().containsKey("QUARKUS_REDIS_HOSTS"), m + ": SSE_BACKPLANE=redis needs QUARKUS_REDIS_HOSTS");
        }
        // With several replicas a voluntary disruption (node drain) must leave one serving.
        if (max > 1) {
            assertTrue(maxUnavailable < min, m + ": PDB maxUnavailable " + maxUnavailable + " < minReplicas " + min
                    + ": a drain never takes every replica");
        }
        assertTrue(hpa.path("spec").path("behavior").path("scaleDown").path("stabilizationWindowSeconds").asInt() >= 300,
                "scale-down waits: each removed pod moves all its streams");
    }

    @Test
    void theGeneratedManifestIsOneReplicaOnTheMemoryBackplane() {
        assertEquals("memory", generated.env().get("SSE_BACKPLANE"));
        assertFalse(generated.env().containsKey("QUARKUS_REDIS_HOSTS"));
        JsonNode spec = generated.kind("HorizontalPodAutoscaler").path("spec");
        assertEquals(1, spec.path("minReplicas").asInt());
        assertEquals(1, spec.path("maxReplicas").asInt());
    }

    @Test
    void theRedisReplicasOverlayRunsSeveralReplicasOnRedisFromASecretAndChangesNothingElse() {
        Map<String, String> env = redisReplicas.env();
        assertEquals("redis", env.get("SSE_BACKPLANE"), redisReplicas.name());
        assertEquals("secret:sse-hub-redis/hosts", env.get("QUARKUS_REDIS_HOSTS"),
                "the Redis address (it may hold a password) comes from a Secret, not a literal value");
        JsonNode hpa = redisReplicas.kind("HorizontalPodAutoscaler").path("spec");
        assertTrue(hpa.path("minReplicas").asInt() >= 2, "at least two replicas: one is left while the other drains");
        assertTrue(hpa.path("maxReplicas").asInt() > hpa.path("minReplicas").asInt(), "room to scale: " + hpa);

        // Everything else is the generated manifest's: the overlay drops no probe, resource or setting.
        Map<String, String> expectedEnv = new HashMap<>(generated.env());
        expectedEnv.put("SSE_BACKPLANE", "redis");
        expectedEnv.put("QUARKUS_REDIS_HOSTS", "secret:sse-hub-redis/hosts");
        assertEquals(expectedEnv, env, "the environment: the generated one, on Redis");
        for (String kind : generated.byKind().keySet()) {
            JsonNode want = Overlay.normalised(generated.kind(kind));
            JsonNode got = Overlay.normalised(redisReplicas.kind(kind));
            if (kind.equals("Deployment")) {
                for (JsonNode d : List.of(want, got)) {
                    ((ObjectNode) d.path("spec").path("template").path("spec").path("containers").get(0)).remove("env");
                }
            } else if (kind.equals("HorizontalPodAutoscaler")) {
                for (JsonNode d : List.of(want, got)) {
                    ((ObjectNode) d.path("spec")).remove(List.of("minReplicas", "maxReplicas"));
                }
            }
            assertEquals(want, got, kind + ": only the backplane and the HPA's range differ from the generated manifest");
        }
    }

    @Test
    void ingressExampleRoutesToTheServiceWithoutBufferingOrIdleTimeouts() throws IOException {
        JsonNode ingress = MonitoringAssets.YAML.readTree(Files.readString(INGRESS));
        assertEquals("networking.k8s.io/v1", ingress.path("apiVersion").asText());
        JsonNode a = ingress.path("metadata").path("annotations");
        assertEquals("off", a.path("nginx.ingress.kubernetes.io/proxy-buffering").asText());
        long heartbeat = seconds(generated.env().get("SSE_HEARTBEAT_INTERVAL"));
        for (String timeout : List.of("proxy-read-timeout", "proxy-send-timeout")) {
            long t = a.path("nginx.ingress.kubernetes.io/" + timeout).asLong();
            assertTrue(t > 2 * heartbeat, timeout + " " + t + " s is above twice the heartbeat interval " + heartbeat + " s");
        }
        JsonNode service = generated.kind("Service");
        for (JsonNode rule : ingress.path("spec").path("rules")) {
            for (JsonNode path : rule.path("http").path("paths")) {
                assertTrue(path.path("path").asText().startsWith("/api/sse"), "only the API is exposed: " + path.path("path"));
                JsonNode backend = path.path("backend").path("service");
                assertEquals(service.path("metadata").path("name").asText(), backend.path("name").asText());
                assertEquals(portNamed(service.path("spec").path("ports"), backend.path("port").path("name").asText())
                        .path("targetPort").asInt(), portNamed(generated.container().path("ports"), "http").path("containerPort").asInt());
            }
        }
    }

    @Test
    void theOverlaysMergeIsAStrategicMerge() {
        // The test's own merge, on the shapes the overlay uses (checked against kubectl kustomize when present).
        JsonNode base = MonitoringAssets.JSON.valueToTree(Map.of("spec", Map.of("n", 1, "keep", "k", "list", List.of(
                Map.of("name", "a", "value", "1"), Map.of("name", "b", "value", "2")))));
        JsonNode patch = MonitoringAssets.JSON.valueToTree(Map.of("spec", Map.of("n", 2, "list", List.of(
                Map.of("name", "b", "value", "3"), Map.of("name", "c", "valueFrom", Map.of("x", "y"))))));
        JsonNode want = MonitoringAssets.JSON.valueToTree(Map.of("spec", Map.of("n", 2, "keep", "k", "list", List.of(
                Map.of("name", "a", "value", "1"), Map.of("name", "b", "value", "3"), Map.of("name", "c", "valueFrom", Map.of("x", "y"))))));
        assertEquals(Overlay.normalised(want), Overlay.normalised(Overlay.merge(base.deepCopy(), patch)));
    }

    static JsonNode portNamed(JsonNode ports, String name) {
        for (JsonNode p : ports) {
            if (p.path("name").asText().equals(name)) {
                return p;
            }
        }
        throw new AssertionError("no port named " + name + " in " + ports);
    }

    static long bytes(String quantity) {
        Matcher m = Pattern.compile("(\\d+)(Ki|Mi|Gi|k|M|G)?").matcher(quantity);
        assertTrue(m.matches(), "memory quantity " + quantity);
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "" : m.group(2);
        return switch (unit) {
            case "Ki" -> n << 10;
            case "Mi" -> n << 20;
            case "Gi" -> n << 30;
            case "k" -> n * 1000;
            case "M" -> n * 1000_000;
            case "G" -> n * 1000_000_000;
            default -> n;
        };
    }

    static long millicores(String quantity) {
        return quantity.endsWith("m") ? Long.parseLong(quantity.substring(0, quantity.length() - 1))
                : Math.round(Double.parseDouble(quantity) * 1000);
    }

    /** "5s", "10s", "1m", "PT5S" as whole seconds. */
    static long seconds(String value) {
        assertNotNull(value, "a duration");
        String v = value.trim();
        if (v.startsWith("P")) {
            return Duration.parse(v).toSeconds();
        }
        Matcher m = Pattern.compile("(\\d+)(ms|s|m|h)").matcher(v);
        assertTrue(m.matches(), "duration " + v);
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> n / 1000;
            case "m" -> n * 60;
            case "h" -> n * 3600;
            default -> n;
        };
    }
}
