package dev.ssehub.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The instructions of a Dockerfile under src/main/docker, parsed for the tests (no Docker engine here). */
public final class Dockerfile {

    public static final Path DIR = Path.of("src", "main", "docker");

    public record Instruction(String keyword, String args) {
    }

    /** COPY or ADD: sources relative to the build context, destination, and --flags. */
    public record Copy(List<String> sources, String destination, Map<String, String> flags) {
    }

    public final Path path;
    public final List<Instruction> instructions;

    private Dockerfile(Path path, List<Instruction> instructions) {
        this.path = path;
        this.instructions = instructions;
    }

    public static Dockerfile read(String name) throws IOException {
        Path p = DIR.resolve(name);
        List<Instruction> out = new ArrayList<>();
        StringBuilder pending = new StringBuilder();
        for (String raw : Files.readAllLines(p)) {
            String line = raw.strip();
            if (pending.length() == 0 && (line.isEmpty() || line.startsWith("#"))) {
                continue;
            }
            if (line.startsWith("#")) {
                continue; // a comment inside a continued instruction
            }
            if (line.endsWith("\\")) {
                pending.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            pending.append(line);
            String full = pending.toString().strip();
            pending.setLength(0);
            int sp = full.indexOf(' ');
            out.add(new Instruction(full.substring(0, sp).toUpperCase(Locale.ROOT), full.substring(sp + 1).strip()));
        }
        return new Dockerfile(p, out);
    }

    public List<String> all(String keyword) {
        return instructions.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::args).toList();
    }

    public List<Copy> copies() {
        List<Copy> out = new ArrayList<>();
        for (Instruction i : instructions) {
            if (!i.keyword().equals("COPY") && !i.keyword().equals("ADD")) {
                continue;
            }
            List<String> words = words(i.args());
            Map<String, String> flags = new LinkedHashMap<>();
            while (words.get(0).startsWith("--")) {
                String f = words.remove(0).substring(2);
                int eq = f.indexOf('=');
                flags.put(eq < 0 ? f : f.substring(0, eq), eq < 0 ? "" : f.substring(eq + 1));
            }
            out.add(new Copy(List.copyOf(words.subList(0, words.size() - 1)), words.get(words.size() - 1), flags));
        }
        return out;
    }

    /** ENV values, later ones winning; both {@code ENV K=V K2="v w"} and {@code ENV K value}. */
    public Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        for (String args : all("ENV")) {
            List<String> words = words(args);
            if (!words.get(0).contains("=")) {
                env.put(words.get(0), String.join(" ", words.subList(1, words.size())));
                continue;
            }
            for (String w : words) {
                int eq = w.indexOf('=');
                env.put(w.substring(0, eq), w.substring(eq + 1));
            }
        }
        return env;
    }

    /** Splits on blanks outside double quotes and drops the quotes. */
    static List<String> words(String s) {
        List<String> out = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean quoted = false;
        boolean any = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') {
                quoted = !quoted;
                any = true;
            } else if (Character.isWhitespace(c) && !quoted) {
                if (any) {
                    out.add(w.toString());
                    w.setLength(0);
                    any = false;
                }
            } else {
                if (c == '\\' && i + 1 < s.length() && quoted) {
                    c = s.charAt(++i);
                }
                w.append(c);
                any = true;
            }
        }
        if (quoted) {
            throw new IllegalArgumentException("unclosed quote in " + s);
        }
        if (any) {
            out.add(w.toString());
        }
        return out;
    }
}
