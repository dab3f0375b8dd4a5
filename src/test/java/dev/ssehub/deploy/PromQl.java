package dev.ssehub.deploy;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Just enough of PromQL to find the metric selectors in an expression (for the dashboard and the alert
 * rules): each metric name with its label matchers and the functions it sits inside. Grafana variables
 * ({@code $instance}, {@code $__rate_interval}) are skipped; syntax is checked by promtool, not here.
 */
final class PromQl {

    /** {@code name{label op "value", ...}} inside {@code functions} (outermost first). */
    record Selector(String metric, Map<String, Matcher> matchers, List<String> functions) {
        String innermostFunction() {
            return functions.isEmpty() ? null : functions.get(functions.size() - 1);
        }
    }

    record Matcher(String op, String value) {
    }

    /** Keywords that take a parenthesised list of label names rather than an expression. */
    private static final Set<String> LABEL_LIST_KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right");
    /** Aggregation operators, which may put their by/without clause before the parenthesis. */
    private static final Set<String> AGGREGATIONS = Set.of("sum", "min", "max", "avg", "group", "stddev", "stdvar",
            "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio");
    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
            "bool", "and", "or", "unless", "offset", "inf", "nan", "atan2");

    private final String s;
    private int i;

    private PromQl(String s) {
        this.s = s;
    }

    static List<Selector> selectors(String expr) {
        return new PromQl(expr).parse();
    }

    private List<Selector> parse() {
        List<Selector> out = new ArrayList<>();
        Deque<String> calls = new ArrayDeque<>(); // innermost first; "" for plain parentheses
        String pendingCall = null;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '"' || c == '\'' || c == '`') {
                string();
            } else if (c == '[') {
                i = s.indexOf(']', i) + 1; // a range or subquery duration
                if (i == 0) {
                    throw new IllegalArgumentException("unclosed [ in " + s);
                }
            } else if (c == '$') {
                i++;
                if (i < s.length() && s.charAt(i) == '{') {
                    i = s.indexOf('}', i) + 1;
                } else {
                    word();
                }
            } else if (c == '(') {
                calls.push(pendingCall == null ? "" : pendingCall);
                pendingCall = null;
                i++;
            } else if (c == ')') {
                if (calls.isEmpty()) {
                    throw new IllegalArgumentException("unbalanced ) in " + s);
                }
                calls.pop();
                i++;
            } else if (c == '{') {
                throw new IllegalArgumentException("selector without a metric name in " + s);
            } else if (Character.isDigit(c) || (c == '.' && i + 1 < s.length() && Character.isDigit(s.charAt(i + 1)))) {
                while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '.')) {
                    i++; // 0.99, 1e3, 5m
                }
            } else if (Character.isLetter(c) || c == '_' || c == ':') {
                String w = word();
                String lower = w.toLowerCase();
                if (LABEL_LIST_KEYWORDS.contains(lower)) {
                    skipSpace();
                    if (i < s.length() && s.charAt(i) == '(') {
                        i = s.indexOf(')', i) + 1;
                    }
                } else if (lower.equals("offset")) {
                    skipSpace();
                    word();
                } else if (KEYWORDS.contains(lower)) {
                    // an operator keyword
                } else {
                    skipSpace();
                    if (i < s.length() && s.charAt(i) == '(' || AGGREGATIONS.contains(lower) && followedByGrouping()) {
                        pendingCall = w;
                    } else {
                        Map<String, Matcher> m = i < s.length() && s.charAt(i) == '{' ? matchers() : Map.of();
                        List<String> fns = new ArrayList<>();
                        calls.descendingIterator().forEachRemaining(f -> {
                            if (!f.isEmpty()) {
                                fns.add(f);
                            }
                        });
                        out.add(new Selector(w, m, List.copyOf(fns)));
                    }
                }
            } else {
                i++; // operators, commas
            }
        }
        if (!calls.isEmpty()) {
            throw new IllegalArgumentException("unbalanced ( in " + s);
        }
        return out;
    }

    private boolean followedByGrouping() {
        int save = i;
        String next = word().toLowerCase();
        i = save;
        return next.equals("by") || next.equals("without");
    }

    private Map<String, Matcher> matchers() {
        Map<String, Matcher> m = new LinkedHashMap<>();
        i++; // {
        while (true) {
            skipSpace();
            char c = s.charAt(i);
            if (c == '}') {
                i++;
                return m;
            }
            if (c == ',') {
                i++;
                continue;
            }
            String label = word();
            skipSpace();
            int opStart = i;
            while ("=!~".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            String op = s.substring(opStart, i);
            skipSpace();
            m.put(label, new Matcher(op, string()));
        }
    }

    private String string() {
        char q = s.charAt(i++);
        StringBuilder b = new StringBuilder();
        while (s.charAt(i) != q) {
            char c = s.charAt(i++);
            if (c == '\\' && q != '`') {
                c = s.charAt(i++);
            }
            b.append(c);
        }
        i++;
        return b.toString();
    }

    private String word() {
        int start = i;
        while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || s.charAt(i) == ':')) {
            i++;
        }
        return s.substring(start, i);
    }

    private void skipSpace() {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
    }
}
