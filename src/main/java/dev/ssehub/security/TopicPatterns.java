package dev.ssehub.security;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The topics a token may subscribe to: the patterns of its {@code sse_topics} claim. A topic is made of
 * segments separated by {@code .}, {@code /} or {@code :}; in a pattern {@code *} stands for any run of
 * characters within one segment (no separator) and {@code **} for any run of characters at all, so
 * {@code tenant.42.**} allows every topic under {@code tenant.42.} and {@code orders.*} allows
 * {@code orders.eu} but not {@code orders.eu.late}. Every other character matches itself. Immutable and
 * thread-safe; a topic is allowed when at least one pattern matches it whole.
 */
public final class TopicPatterns implements Predicate<String> {

    /** Patterns one token may carry, and their length: bounds on the work a token can ask of the service. */
    public static final int MAX_PATTERNS = 256;
    public static final int MAX_LENGTH = 256;

    private final List<String> patterns;
    private final Pattern regex;

    private TopicPatterns(List<String> patterns) {
        this.patterns = List.copyOf(patterns);
        StringBuilder sb = new StringBuilder();
        for (String p : patterns) {
            if (sb.length() > 0) {
                sb.append('|');
            }
            sb.append("(?:").append(toRegex(p)).append(')');
        }
        this.regex = Pattern.compile(sb.length() == 0 ? "(?!)" : sb.toString());
    }

    /**
     * The patterns of a claim value: one string or a collection of strings.
     *
     * @throws IllegalArgumentException when the value is neither, or a pattern is empty, too long or too many
     */
    public static TopicPatterns of(Collection<String> patterns) {
        if (patterns.size() > MAX_PATTERNS) {
            throw new IllegalArgumentException("at most " + MAX_PATTERNS + " patterns");
        }
        List<String> out = new ArrayList<>(patterns.size());
        for (String p : patterns) {
            if (p == null || p.isEmpty() || p.length() > MAX_LENGTH) {
                throw new IllegalArgumentException("each pattern must be 1 to " + MAX_LENGTH + " characters");
            }
            out.add(p);
        }
        return new TopicPatterns(out);
    }

    private static String toRegex(String pattern) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < pattern.length()) {
            char c = pattern.charAt(i);
            if (c == '*') {
                if (i + 1 < pattern.length() && pattern.charAt(i + 1) == '*') {
                    sb.append(".*");
                    i += 2;
                    while (i < pattern.length() && pattern.charAt(i) == '*') {
                        i++; // *** is **
                    }
                } else {
                    sb.append("[^./:]*");
                    i++;
                }
            } else {
                int next = pattern.indexOf('*', i);
                int end = next < 0 ? pattern.length() : next;
                sb.append(Pattern.quote(pattern.substring(i, end)));
                i = end;
            }
        }
        return sb.toString();
    }

    @Override
    public boolean test(String topic) {
        return topic != null && regex.matcher(topic).matches();
    }

    public List<String> patterns() {
        return patterns;
    }

    @Override
    public String toString() {
        return "TopicPatterns" + patterns;
    }
}
