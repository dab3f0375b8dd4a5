package dev.ssehub.deploy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A scrape of {@code /q/metrics} (Prometheus text format): which samples exist, with which label sets,
 * and the type of each metric family. Families are named as in {@code # TYPE} lines (a counter's family
 * has no {@code _total}); samples carry the suffixes ({@code _total}, {@code _bucket}, {@code _count},
 * {@code _sum}).
 */
final class PrometheusText {

    final Map<String, List<Map<String, String>>> samples = new HashMap<>();
    final Map<String, String> types = new HashMap<>();

    static PrometheusText parse(String body) {
        PrometheusText t = new PrometheusText();
        for (String line : body.split("\n")) {
            line = line.strip();
            if (line.startsWith("# TYPE ")) {
                String[] p = line.split(" ");
                t.types.put(p[2], p[3]);
            } else if (!line.isEmpty() && !line.startsWith("#")) {
                int brace = line.indexOf('{');
                int space = line.indexOf(' ');
                String name = line.substring(0, brace >= 0 && brace < space ? brace : space);
                Map<String, String> labels = brace >= 0 && brace < space ? labels(line, brace) : Map.of();
                t.samples.computeIfAbsent(name, k -> new ArrayList<>()).add(labels);
            }
        }
        return t;
    }

    private static Map<String, String> labels(String line, int brace) {
        Map<String, String> m = new LinkedHashMap<>();
        int i = brace + 1;
        while (line.charAt(i) != '}') {
            int eq = line.indexOf('=', i);
            String key = line.substring(i, eq).strip();
            i = eq + 2; // ="
            StringBuilder v = new StringBuilder();
            while (line.charAt(i) != '"') {
                char c = line.charAt(i++);
                if (c == '\\') {
                    c = line.charAt(i++);
                    c = c == 'n' ? '\n' : c;
                }
                v.append(c);
            }
            m.put(key, v.toString());
            i++; // closing quote
            if (line.charAt(i) == ',') {
                i++;
            }
        }
        return m;
    }

    /**
     * What a sample name is: {@code gauge}, {@code counter}, {@code histogram_bucket},
     * {@code histogram_count}, {@code summary_sum}, ..., or null when no family declares it.
     */
    String kind(String sample) {
        String own = types.get(sample);
        if (own != null && !own.equals("histogram") && !own.equals("summary")) {
            return own;
        }
        for (String suffix : new String[] { "_total", "_bucket", "_count", "_sum" }) {
            if (sample.endsWith(suffix)) {
                String family = types.get(sample.substring(0, sample.length() - suffix.length()));
                if (family == null) {
                    continue;
                }
                if (suffix.equals("_total")) {
                    return family.equals("counter") ? "counter" : null;
                }
                if (family.equals("histogram") || family.equals("summary") && !suffix.equals("_bucket")) {
                    return family + suffix;
                }
            }
        }
        return null;
    }

    /** Counters and the cumulative parts of histograms and summaries: what rate() and increase() take. */
    boolean isCumulative(String sample) {
        String k = kind(sample);
        return k != null && (k.equals("counter") || k.endsWith("_bucket") || k.endsWith("_count") || k.endsWith("_sum"));
    }
}
