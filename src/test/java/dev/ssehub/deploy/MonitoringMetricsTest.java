package dev.ssehub.deploy;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import dev.ssehub.deploy.MonitoringAssets.LabelValues;
import dev.ssehub.deploy.MonitoringAssets.Query;
import dev.ssehub.deploy.PromQl.Selector;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Every metric that the Grafana dashboard and the alert rules name is exported by the running service at
 * /q/metrics, is used as its type allows (rate() and increase() over counters and histogram buckets,
 * histogram_quantile() over buckets, counters never read raw), and every label value they filter on
 * exists.
 */
@QuarkusTest
class MonitoringMetricsTest {

    /** Labels Prometheus adds when it scrapes a target (static config or Kubernetes discovery). */
    static final Set<String> TARGET_LABELS = Set.of("instance", "job", "namespace", "pod", "container", "service", "endpoint");
    static final Set<String> RANGE_FUNCTIONS = Set.of("rate", "irate", "increase");

    @Test
    void everyMetricTheDashboardAndAlertsNameIsExported() throws Exception {
        String body = given().get("/q/metrics").then().statusCode(200).extract().asString();
        PrometheusText scrape = PrometheusText.parse(body);
        List<Query> queries = MonitoringAssets.allQueries();
        assertFalse(queries.isEmpty());

        List<String> problems = new ArrayList<>();
        int selectors = 0;
        for (Query q : queries) {
            List<Selector> found = PromQl.selectors(q.expr());
            assertFalse(found.isEmpty(), q.where() + " names no metric: " + q.expr());
            for (Selector s : found) {
                selectors++;
                problems.addAll(check(scrape, q.where(), s));
            }
        }
        for (LabelValues v : MonitoringAssets.dashboardVariables(MonitoringAssets.dashboard())) {
            problems.addAll(check(scrape, v.where(), new Selector(v.metric(), Map.of(), List.of())));
            if (!TARGET_LABELS.contains(v.label()) && !hasLabel(scrape, v.metric(), v.label())) {
                problems.add(v.where() + ": " + v.metric() + " has no label " + v.label());
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        assertTrue(selectors >= 20, "selectors checked: " + selectors);
    }

    static List<String> check(PrometheusText scrape, String where, Selector s) {
        List<String> problems = new ArrayList<>();
        String m = s.metric();
        if (!scrape.samples.containsKey(m)) {
            problems.add(where + ": " + m + " is not exported at /q/metrics");
            return problems;
        }
        String kind = scrape.kind(m);
        assertNotNull(kind, "no # TYPE for " + m);
        String fn = s.innermostFunction();
        boolean ranged = fn != null && RANGE_FUNCTIONS.contains(fn);
        if (ranged && !scrape.isCumulative(m)) {
            problems.add(where + ": " + fn + "() over " + m + ", a " + kind + " (wants a counter or histogram part)");
        }
        if (!ranged && scrape.isCumulative(m)) {
            problems.add(where + ": " + m + " (" + kind + ") read raw; use rate() or increase()");
        }
        if (s.functions().contains("histogram_quantile") && !kind.equals("histogram_bucket")) {
            problems.add(where + ": histogram_quantile() over " + m + ", a " + kind);
        }
        s.matchers().forEach((label, matcher) -> {
            if (TARGET_LABELS.contains(label)) {
                return;
            }
            if (!hasLabel(scrape, m, label)) {
                problems.add(where + ": " + m + " has no label " + label);
            } else if (!matcher.value().contains("$") && (matcher.op().equals("=") || matcher.op().equals("=~"))) {
                Pattern p = matcher.op().equals("=") ? Pattern.compile(Pattern.quote(matcher.value())) : Pattern.compile(matcher.value());
                if (scrape.samples.get(m).stream().noneMatch(l -> l.containsKey(label) && p.matcher(l.get(label)).matches())) {
                    problems.add(where + ": no " + m + " sample with " + label + matcher.op() + "\"" + matcher.value() + "\"");
                }
            }
        });
        return problems;
    }

    static boolean hasLabel(PrometheusText scrape, String metric, String label) {
        return scrape.samples.getOrDefault(metric, List.of()).stream().anyMatch(l -> l.containsKey(label));
    }
}
