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

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * The Kubernetes manifest quarkus-kubernetes generated at package time
 * ({@code target/kubernetes/kubernetes.yml}) holds what docs/deployment.md promises: probes on the
 * health endpoints and the service's port (and those answer on the packaged application), resources
 * sized from docs/performance.md, a grace period that outlasts the drain, a PodDisruptionBudget, an HPA,
 * Prometheus scrape annotations; and the ingress example agrees with it.
 */
@QuarkusIntegrationTest
class KubernetesManifestIT {

    static final Path MANIFEST = Path.of("target", "kubernetes", "kubernetes.yml");
    static final Path INGRESS = Path.of("deploy", "kubernetes", "ingress-nginx.yml");

    static final Map<String, JsonNode> byKind = new HashMap<>();
    static JsonNode deployment;
    static JsonNode pod;
    static JsonNode container;
    static Map<String, String> env;
    static Properties props;

    @BeforeAll
    static void load() throws IOException {
        assertTrue(Files.isRegularFile(MANIFEST), MANIFEST + " is missing: quarkus-kubernetes writes it at ./mvnw package, "
                + "before this test (failsafe). Is io.quarkus:quarkus-kubernetes still in pom.xml?");
        try (MappingIterator<JsonNode> docs = MonitoringAssets.YAML.readerFor(JsonNode.class).readValues(MANIFEST.toFile())) {
            while (docs.hasNext()) {
                JsonNode d = docs.next();
                if (d == null || d.isEmpty()) {
                    continue;
                }
                assertEquals(null, byKind.put(d.path("kind").asText(), d), "one " + d.path("kind").asText());
                assertEquals("sse-hub", d.path("metadata").path("name").asText(), "name of the " + d.path("kind").asText());
            }
        }
        deployment = byKind.get("Deployment");
        assertNotNull(deployment, "a Deployment in " + byKind.keySet());
        pod = deployment.path("spec").path("template");
        assertEquals(1, pod.path("spec").path("containers").size(), "one container");
        container = pod.path("spec").path("containers").get(0);
        env = new HashMap<>();
        container.path("env").forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
        props = new Properties();
        try (InputStream in = Files.newInputStream(Path.of("src", "main", "resources", "application.properties"))) {
            props.load(in);
        }
    }

    @Test
    void resourcesAreTheDeploymentServicePdbAndHpaOnly() {
        // No ServiceMonitor: `kubectl apply` must work on a cluster without the Prometheus Operator.
        assertEquals(Set.of("Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"), byKind.keySet());
        assertEquals("apps/v1", deployment.path("apiVersion").asText());
    }

    @Test
    void probesUseTheHealthEndpointsOnTheServicePortAndAnswerThere() {
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

    @Test
    void resourcesAreSizedForSseMaxClientsStreams() {
        long streams = Long.parseLong(env.get("SSE_MAX_CLIENTS"));
        JsonNode res = container.path("resources");
        long memRequest = bytes(res.path("requests").path("memory").asText());
        long memLimit = bytes(res.path("limits").path("memory").asText());
        // docs/performance.md: about 150 MiB + 8 KiB per stream for the JVM with the image's options.
        long needed = (150L << 20) + streams * (8L << 10);
        assertTrue(memRequest >= needed, "memory request " + memRequest + " >= " + needed + " for " + streams + " streams");
        assertTrue(memLimit >= memRequest, "memory limit >= request");
        long cpuRequest = millicores(res.path("requests").path("cpu").asText());
        long cpuLimit = millicores(res.path("limits").path("cpu").asText());
        assertTrue(cpuRequest >= 500 && cpuLimit >= cpuRequest, "cpu request " + cpuRequest + "m, limit " + cpuLimit + "m");
    }

    @Test
    void gracePeriodOutlastsTheDrainTheShutdownTimeoutAndReadinessDetection() {
        long drain = seconds(env.get("SSE_SHUTDOWN_DRAIN"));
        String delay = props.getProperty("quarkus.shutdown.delay");
        assertEquals("${sse.shutdown.drain:5s}", delay, "the shutdown delay is the drain");
        long shutdownTimeout = seconds(props.getProperty("quarkus.shutdown.timeout"));
        JsonNode ready = container.path("readinessProbe");
        long readinessDetection = ready.path("periodSeconds").asLong() * ready.path("failureThreshold").asLong();
        long grace = pod.path("spec").path("terminationGracePeriodSeconds").asLong();
        assertTrue(grace > drain + shutdownTimeout + readinessDetection, "terminationGracePeriodSeconds " + grace + " > drain " + drain
                + " + shutdown timeout " + shutdownTimeout + " + readiness " + readinessDetection);
    }

    @Test
    void rollingUpdatesStartTheNewPodFirstAndSelectorsSurviveANewVersion() {
        JsonNode strategy = deployment.path("spec").path("strategy");
        assertEquals("RollingUpdate", strategy.path("type").asText());
        assertEquals("0", strategy.path("rollingUpdate").path("maxUnavailable").asText());
        assertEquals("1", strategy.path("rollingUpdate").path("maxSurge").asText());
        JsonNode podLabels = pod.path("metadata").path("labels");
        for (JsonNode selector : List.of(deployment.path("spec").path("selector").path("matchLabels"),
                byKind.get("Service").path("spec").path("selector"),
                byKind.get("PodDisruptionBudget").path("spec").path("selector").path("matchLabels"))) {
            assertTrue(selector.size() > 0, "a selector");
            selector.fields().forEachRemaining(e -> assertEquals(e.getValue().asText(), podLabels.path(e.getKey()).asText(),
                    "pods carry the selector's " + e.getKey()));
            assertFalse(selector.has("app.kubernetes.io/version"), "no version in a selector: " + selector);
        }
        JsonNode sec = pod.path("spec").path("securityContext");
        assertTrue(sec.path("runAsNonRoot").asBoolean(), "runAsNonRoot");
        assertFalse(container.path("securityContext").path("allowPrivilegeEscalation").asBoolean(true), "no privilege escalation");
        String image = container.path("image").asText();
        assertTrue(image.startsWith("sse-hub:"), "default image " + image + " (no registry written into the build)");
    }

    @Test
    void podsAndServiceCarryPrometheusScrapeAnnotations() {
        String port = String.valueOf(portNamed(container.path("ports"), "http").path("containerPort").asInt());
        for (JsonNode annotations : List.of(pod.path("metadata").path("annotations"),
                byKind.get("Service").path("metadata").path("annotations"))) {
            assertEquals("true", annotations.path("prometheus.io/scrape").asText(), annotations.toString());
            assertEquals("/q/metrics", annotations.path("prometheus.io/path").asText());
            assertEquals(port, annotations.path("prometheus.io/port").asText());
        }
        given().get("/q/metrics").then().statusCode(200);
    }

    @Test
    void disruptionBudgetAndAutoscalerMatchTheBackplane() {
        JsonNode pdb = byKind.get("PodDisruptionBudget");
        assertEquals("policy/v1", pdb.path("apiVersion").asText());
        assertEquals(1, pdb.path("spec").path("maxUnavailable").asInt(), "one pod at a time");
        assertFalse(pdb.path("spec").has("minAvailable"), "minAvailable would block draining a single replica's node");

        JsonNode hpa = byKind.get("HorizontalPodAutoscaler");
        assertEquals("autoscaling/v2", hpa.path("apiVersion").asText());
        JsonNode target = hpa.path("spec").path("scaleTargetRef");
        assertEquals("Deployment", target.path("kind").asText());
        assertEquals(deployment.path("metadata").path("name").asText(), target.path("name").asText());
        List<String> metrics = new ArrayList<>();
        hpa.path("spec").path("metrics").forEach(m -> metrics.add(m.path("type").asText() + ":" + m.path("resource").path("name").asText()));
        assertTrue(metrics.contains("Resource:cpu"), "scales on CPU: " + metrics);
        assertFalse(container.path("resources").path("requests").path("cpu").isMissingNode(), "CPU utilisation needs a CPU request");
        int min = hpa.path("spec").path("minReplicas").asInt();
        int max = hpa.path("spec").path("maxReplicas").asInt();
        assertTrue(min >= 1 && max >= min, "replicas " + min + ".." + max);
        assertFalse(deployment.path("spec").has("replicas") && deployment.path("spec").path("replicas").asInt() > max,
                "the Deployment's replicas within the HPA's range");
        // Several replicas only share events over the Redis backplane.
        if (!"redis".equals(env.get("SSE_BACKPLANE"))) {
            assertEquals(1, max, "SSE_BACKPLANE=" + env.get("SSE_BACKPLANE") + ": one replica at most");
        }
        assertTrue(hpa.path("spec").path("behavior").path("scaleDown").path("stabilizationWindowSeconds").asInt() >= 300,
                "scale-down waits: each removed pod moves all its streams");
    }

    @Test
    void ingressExampleRoutesToTheServiceWithoutBufferingOrIdleTimeouts() throws IOException {
        JsonNode ingress = MonitoringAssets.YAML.readTree(Files.readString(INGRESS));
        assertEquals("networking.k8s.io/v1", ingress.path("apiVersion").asText());
        JsonNode a = ingress.path("metadata").path("annotations");
        assertEquals("off", a.path("nginx.ingress.kubernetes.io/proxy-buffering").asText());
        long heartbeat = seconds(env.get("SSE_HEARTBEAT_INTERVAL"));
        for (String timeout : List.of("proxy-read-timeout", "proxy-send-timeout")) {
            long t = a.path("nginx.ingress.kubernetes.io/" + timeout).asLong();
            assertTrue(t > 2 * heartbeat, timeout + " " + t + " s is above twice the heartbeat interval " + heartbeat + " s");
        }
        JsonNode service = byKind.get("Service");
        for (JsonNode rule : ingress.path("spec").path("rules")) {
            for (JsonNode path : rule.path("http").path("paths")) {
                assertTrue(path.path("path").asText().startsWith("/api/sse"), "only the API is exposed: " + path.path("path"));
                JsonNode backend = path.path("backend").path("service");
                assertEquals(service.path("metadata").path("name").asText(), backend.path("name").asText());
                assertEquals(portNamed(service.path("spec").path("ports"), backend.path("port").path("name").asText())
                        .path("targetPort").asInt(), portNamed(container.path("ports"), "http").path("containerPort").asInt());
            }
        }
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
