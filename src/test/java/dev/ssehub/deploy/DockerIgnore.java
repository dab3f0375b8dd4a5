package dev.ssehub.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The build context that {@code .dockerignore} leaves, matched as Docker does: patterns in order, the
 * last one that matches a path or any of its parent directories decides, {@code !} re-includes;
 * {@code *} and {@code ?} stay within a path segment, {@code **} spans any number of them.
 */
final class DockerIgnore {

    record Rule(boolean reinclude, Pattern pattern, String text) {
    }

    final List<Rule> rules;

    private DockerIgnore(List<Rule> rules) {
        this.rules = rules;
    }

    static DockerIgnore read(Path file) throws IOException {
        List<Rule> rules = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            String p = line.strip();
            if (p.isEmpty() || p.startsWith("#")) {
                continue;
            }
            boolean re = p.startsWith("!");
            if (re) {
                p = p.substring(1).strip();
            }
            while (p.startsWith("/") || p.startsWith("./")) {
                p = p.substring(p.startsWith("/") ? 1 : 2);
            }
            while (p.endsWith("/") && p.length() > 1) {
                p = p.substring(0, p.length() - 1);
            }
            rules.add(new Rule(re, Pattern.compile(regex(p)), line.strip()));
        }
        return new DockerIgnore(rules);
    }

    static String regex(String glob) {
        StringBuilder r = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                i++;
                if (i + 1 < glob.length() && glob.charAt(i + 1) == '/') {
                    i++;
                    r.append("(?:.*/)?");
                } else {
                    r.append(".*");
                }
            } else if (c == '*') {
                r.append("[^/]*");
            } else if (c == '?') {
                r.append("[^/]");
            } else if (c == '[') {
                int end = glob.indexOf(']', i);
                r.append(glob, i, end + 1);
                i = end;
            } else {
                r.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return r.toString();
    }

    /** Whether the path (relative to the context, with '/') is sent to the builder. */
    boolean included(String path) {
        boolean excluded = false;
        for (Rule rule : rules) {
            if (matchesOrParentMatches(rule.pattern(), path)) {
                excluded = !rule.reinclude();
            }
        }
        return !excluded;
    }

    private static boolean matchesOrParentMatches(Pattern p, String path) {
        String s = path;
        while (true) {
            if (p.matcher(s).matches()) {
                return true;
            }
            int slash = s.lastIndexOf('/');
            if (slash < 0) {
                return false;
            }
            s = s.substring(0, slash);
        }
    }
}
