package dev.ssehub.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ssehub.deploy.MonitoringAssets.Query;
import dev.ssehub.deploy.PromQl.Selector;

/**
 * The Grafana dashboard and the Prometheus alert rules parse and are well formed; with promtool (Debian
 * package {@code prometheus}) their PromQL is checked and the alert rules' unit tests run. That their
 * metrics exist is {@link MonitoringMetricsTest}'s job.
 */
class MonitoringRulesTest {

    @Test
    void dashboardIsAGrafanaDashboardOverTheDatasourceVariable() throws IOException {
        JsonNode d = MonitoringAssets.dashboard();
        assertEquals("sse-hub", d.path("uid").asText());
        assertFalse(d.path("title").asText().isEmpty());
        assertTrue(d.path("schemaVersion").asInt() >= 30, "schemaVersion");
        Set<String> variables = new HashSet<>();
        d.path("templating").path("list").forEach(v -> variables.add(v.path("name").asText()));
        assertTrue(variables.containsAll(Set.of("datasource", "instance")), "variables " + variables);

        Set<Integer> ids = new HashSet<>();
        int queries = 0;
        for (JsonNode p : MonitoringAssets.panels(d)) {
            String title = p.path("title").asText();
            assertTrue(ids.add(p.path("id").asInt()), "panel ids are unique: " + title);
            for (String k : List.of("x", "y", "w", "h")) {
                assertTrue(p.path("gridPos").path(k).isInt(), title + ": gridPos." + k);
            }
            if (p.path("type").asText().equals("row")) {
                continue;
            }
            assertFalse(p.path("description").asText().isEmpty(), title + ": description says what the panel shows");
            assertEquals("${datasource}", p.path("datasource").path("uid").asText(), title + ": datasource");
            assertTrue(p.path("targets").size() > 0, title + ": has queries");
            for (JsonNode t : p.path("targets")) {
                assertFalse(t.path("expr").asText().isBlank(), title + ": query " + t.path("refId"));
                assertEquals("${datasource}", t.path("datasource").path("uid").asText(), title + ": target datasource");
                queries++;
            }
        }
        assertTrue(queries >= 10, "dashboard queries: " + queries);
    }

    @Test
    void alertRulesAreWellFormedAndCoverTheServicesFailureModes() throws IOException {
        JsonNode alerts = MonitoringAssets.alerts();
        Set<String> names = new HashSet<>();
        List<Selector> used = new ArrayList<>();
        for (JsonNode g : alerts.path("groups")) {
            assertFalse(g.path("name").asText().isEmpty(), "group name");
            for (JsonNode r : g.path("rules")) {
                String name = r.path("alert").asText();
                assertTrue(name.matches("SseHub[A-Z][A-Za-z]+"), "alert name " + name);
                assertTrue(names.add(name), "unique alert " + name);
                assertTrue(r.path("for").asText().matches("\\d+[smh]"), name + ": for");
                assertTrue(Set.of("warning", "critical").contains(r.path("labels").path("severity").asText()), name + ": severity");
                assertFalse(r.path("annotations").path("summary").asText().isEmpty(), name + ": summary");
                assertFalse(r.path("annotations").path("description").asText().isEmpty(), name + ": description");
                used.addAll(PromQl.selectors(r.path("expr").asText()));
            }
        }
        // The list: backplane down, streams near sse.max-clients (a share of each instance's own
        // sse.max-clients, not a fixed count), slow-consumer drops, delivery lag; and the Redis backplane's
        // lag, latency and reconnections.
        PromQl.Matcher slow = new PromQl.Matcher("=", "slow_consumer");
        Map<String, PromQl.Matcher> needed = new java.util.LinkedHashMap<>();
        needed.put("sse_backplane_up", null);
        needed.put("sse_connections_active", null);
        needed.put("sse_connections_max", null);
        needed.put("sse_backplane_lag_entries", null);
        needed.put("sse_backplane_latency_seconds_bucket", null);
        needed.put("sse_backplane_reconnects_total", null);
        needed.put("sse_events_dropped_total", slow);
        needed.put("sse_connections_closed_total", slow);
        needed.put("sse_delivery_latency_seconds_bucket", null);
        needed.forEach((metric, reason) -> assertTrue(used.stream().anyMatch(
                s -> s.metric().equals(metric) && (reason == null || reason.equals(s.matchers().get("reason")))),
                "an alert on " + metric + (reason == null ? "" : "{reason=\"" + reason.value() + "\"}") + "; alerts use " + used));
    }

    @Test
    void selectorsAreFoundInPromQl() {
        List<Selector> s = PromQl.selectors(
                "histogram_quantile(0.99, sum by (namespace, le) (rate(lat_bucket{instance=~\"$instance\"}[$__rate_interval])))"
                        + " > on (instance) group_left max without (pod) (up_gauge{a=\"x\\\"y\", b!=\"\"}) offset 5m and bool 1e3");
        assertEquals(List.of("lat_bucket", "up_gauge"), s.stream().map(Selector::metric).toList());
        assertEquals(List.of("histogram_quantile", "sum", "rate"), s.get(0).functions());
        assertEquals("rate", s.get(0).innermostFunction());
        assertEquals(new PromQl.Matcher("=~", "$instance"), s.get(0).matchers().get("instance"));
        assertEquals(List.of("max"), s.get(1).functions());
        assertEquals(Map.of("a", new PromQl.Matcher("=", "x\"y"), "b", new PromQl.Matcher("!=", "")), s.get(1).matchers());
        assertEquals(List.of("a_total", "b_total"),
                PromQl.selectors("sum(a_total) / ignoring(le) sum by (x) (b_total)").stream().map(Selector::metric).toList());
    }

    @Test
    void promtoolAcceptsTheRulesAndEveryDashboardQuery() throws Exception {
        requirePromtool();
        run(List.of("promtool", "check", "rules", MonitoringAssets.ALERTS.toString()));

        // The dashboard's queries as recording rules (Grafana's variables filled in): promtool parses each.
        ObjectNode file = MonitoringAssets.YAML.createObjectNode();
        ArrayNode rules = file.putArray("groups").addObject().put("name", "dashboard").putArray("rules");
        List<Query> queries = MonitoringAssets.dashboardQueries(MonitoringAssets.dashboard());
        for (int i = 0; i < queries.size(); i++) {
            rules.addObject().put("record", "dashboard:query" + i)
                    .put("expr", MonitoringAssets.withoutGrafanaVariables(queries.get(i).expr()));
        }
        Path tmp = Files.createTempFile("sse-hub-dashboard-rules", ".yml");
        try {
            MonitoringAssets.YAML.writeValue(tmp.toFile(), file);
            String out = run(List.of("promtool", "check", "rules", tmp.toString()));
            assertTrue(out.contains(queries.size() + " rules found"), out);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Test
    void alertRulesPassTheirUnitTestsAndEveryAlertIsTestedFiring() throws Exception {
        JsonNode tests = MonitoringAssets.YAML.readTree(Files.readString(MonitoringAssets.ALERT_TESTS));
        Set<String> firing = new HashSet<>();
        for (JsonNode t : tests.path("tests")) {
            for (JsonNode a : t.path("alert_rule_test")) {
                if (a.path("exp_alerts").size() > 0) {
                    firing.add(a.path("alertname").asText());
                }
            }
        }
        List<String> alerts = new ArrayList<>();
        MonitoringAssets.alerts().path("groups").forEach(g -> g.path("rules").forEach(r -> alerts.add(r.path("alert").asText())));
        List<String> untested = alerts.stream().filter(a -> !firing.contains(a)).collect(Collectors.toList());
        assertTrue(untested.isEmpty(), "alerts without a firing case in " + MonitoringAssets.ALERT_TESTS + ": " + untested);

        requirePromtool();
        String out = run(List.of("promtool", "test", "rules", MonitoringAssets.ALERT_TESTS.toString()));
        assertTrue(out.contains("SUCCESS"), out);
    }

    static void requirePromtool() {
        boolean present = false;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            present |= Files.isExecutable(Path.of(dir, "promtool"));
        }
        if (!present) {
            System.err.println("SKIPPED: promtool is not installed; install Debian's prometheus package "
                    + "(apt-get install --no-install-recommends prometheus) to check the alert rules and dashboard queries. .ci/run does.");
        }
        Assumptions.assumeTrue(present, "promtool missing: apt-get install --no-install-recommends prometheus");
    }

    /** Runs a command in the project directory; fails with its output unless it exits 0. */
    static String run(List<String> command) throws IOException, InterruptedException {
        Path log = Files.createTempFile("sse-hub-promtool", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(command + " did not finish within 60 s");
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), command + ":\n" + out);
            return out;
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
