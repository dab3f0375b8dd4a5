package dev.ssehub.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/** The Grafana dashboard and the Prometheus alert rules under deploy/, and every PromQL query in them. */
final class MonitoringAssets {

    static final Path DASHBOARD = Path.of("deploy", "grafana", "sse-hub-dashboard.json");
    static final Path ALERTS = Path.of("deploy", "prometheus", "sse-hub-alerts.yml");
    static final Path ALERT_TESTS = Path.of("deploy", "prometheus", "sse-hub-alerts.test.yml");

    static final ObjectMapper JSON = new ObjectMapper();
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** A PromQL expression and where it comes from (for messages). */
    record Query(String where, String expr) {
    }

    /** A Grafana {@code label_values(metric, label)} variable query. */
    record LabelValues(String where, String metric, String label) {
    }

    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\(\\s*([A-Za-z_:][A-Za-z0-9_:]*)\\s*,\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*\\)");

    static JsonNode dashboard() throws IOException {
        return JSON.readTree(Files.readString(DASHBOARD));
    }

    static JsonNode alerts() throws IOException {
        return YAML.readTree(Files.readString(ALERTS));
    }

    /** Every panel (rows included, nested row panels too). */
    static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : dashboard.path("panels")) {
            out.add(p);
            p.path("panels").forEach(out::add);
        }
        return out;
    }

    static List<Query> dashboardQueries(JsonNode dashboard) {
        List<Query> out = new ArrayList<>();
        for (JsonNode p : panels(dashboard)) {
            for (JsonNode t : p.path("targets")) {
                out.add(new Query("dashboard panel '" + p.path("title").asText() + "' " + t.path("refId").asText(),
                        t.path("expr").asText()));
            }
        }
        return out;
    }

    static List<LabelValues> dashboardVariables(JsonNode dashboard) {
        List<LabelValues> out = new ArrayList<>();
        for (JsonNode v : dashboard.path("templating").path("list")) {
            if (!v.path("type").asText().equals("query")) {
                continue;
            }
            JsonNode q = v.path("query");
            String text = q.isObject() ? q.path("query").asText() : q.asText();
            Matcher m = LABEL_VALUES.matcher(text);
            if (!m.matches()) {
                throw new AssertionError("variable " + v.path("name") + ": expected label_values(metric, label), got " + text);
            }
            out.add(new LabelValues("dashboard variable $" + v.path("name").asText(), m.group(1), m.group(2)));
        }
        return out;
    }

    static List<Query> alertQueries(JsonNode alerts) {
        List<Query> out = new ArrayList<>();
        for (JsonNode g : alerts.path("groups")) {
            for (JsonNode r : g.path("rules")) {
                out.add(new Query("alert " + r.path("alert").asText(r.path("record").asText()), r.path("expr").asText()));
            }
        }
        return out;
    }

    static List<Query> allQueries() throws IOException {
        List<Query> out = new ArrayList<>(dashboardQueries(dashboard()));
        out.addAll(alertQueries(alerts()));
        return out;
    }

    /** The expression with Grafana's variables replaced by values Prometheus accepts. */
    static String withoutGrafanaVariables(String expr) {
        return expr.replace("$__rate_interval", "5m").replace("$__interval", "1m").replace("$instance", ".*");
    }
}
