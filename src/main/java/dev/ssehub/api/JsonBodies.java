package dev.ssehub.api;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;

/**
 * Request bodies read strictly, so that what a publisher sends is never changed on its way to the streams.
 *
 * <p>A body must be UTF-8 and exactly one JSON value. Refused with 400, because a receiver would read them
 * otherwise than the publisher wrote them: content after the value, a key repeated in an object
 * ({@code JSON.parse} keeps the last one), a number outside the range of an IEEE 754 double
 * ({@code 1e400} reads as Infinity, {@code 1e-400} as 0), and a string with an unpaired surrogate
 * ({@code "\ud800"} has no UTF-8 form).
 *
 * <p>An event's {@code data} is not re-encoded: it goes out as the publisher wrote it, with only the
 * whitespace between tokens removed (it must fit on one {@code data:} line). Numbers keep their digits and
 * form ({@code 1E2}, {@code -0}, {@code 1.0}, 30-digit integers), strings their escapes.
 */
final class JsonBodies {

    /** Longest piece of a key or number quoted back in an error. */
    private static final int QUOTE = 64;

    private JsonBodies() {
    }

    /** A publish body: its tree, and the text of each event's {@code data} as published (null when absent). */
    record Events(JsonNode tree, List<String> data) {
    }

    /** One JSON value, read strictly (see the class comment). */
    static JsonNode parse(ObjectMapper mapper, byte[] body) {
        return tree(mapper, utf8(body));
    }

    /**
     * A publish body: one event object ({@code batch} false) or an array of them. The verbatim {@code data}
     * of entry {@code i} is {@code data().get(i)}; entries that are not objects get null (their validation
     * refuses them).
     */
    static Events events(ObjectMapper mapper, byte[] body, boolean batch) {
        String text = utf8(body);
        JsonNode tree = tree(mapper, text);
        List<String> data = new ArrayList<>();
        try (JsonParser p = mapper.getFactory().createParser(text)) {
            JsonToken t = p.nextToken();
            if (!batch && t == JsonToken.START_OBJECT) {
                data.add(dataOf(p, text));
            } else if (batch && t == JsonToken.START_ARRAY) {
                while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                    if (t == JsonToken.START_OBJECT) {
                        data.add(dataOf(p, text));
                    } else {
                        p.skipChildren();
                        data.add(null);
                    }
                }
            }
        } catch (IOException e) {
            // The text was parsed once already; a second parse cannot fail.
            throw new IllegalStateException(e);
        }
        return new Events(tree, data);
    }

    private static String utf8(byte[] body) {
        if (body == null || body.length == 0) {
            throw ApiException.badRequest("The request body is empty; expected JSON");
        }
        // A plain new String(...) would turn malformed bytes into U+FFFD without a word.
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(body);
        CharBuffer out = CharBuffer.allocate(body.length);
        CoderResult r = decoder.decode(in, out, true);
        if (!r.isError()) {
            r = decoder.flush(out);
        }
        if (r.isError()) {
            throw ApiException.badRequest("The request body is not valid UTF-8 (at byte " + in.position() + ")");
        }
        String text = out.flip().toString();
        if (text.isBlank()) {
            throw ApiException.badRequest("The request body is empty; expected JSON");
        }
        return text;
    }

    private static volatile ObjectReader exact;

    /** A reader that keeps decimals exact (the mapper is the application's one, so it can be cached). */
    private static ObjectReader exact(ObjectMapper mapper) {
        ObjectReader r = exact;
        if (r == null) {
            exact = r = mapper.reader().with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
        }
        return r;
    }

    private static JsonNode tree(ObjectMapper mapper, String text) {
        JsonNode tree;
        try (JsonParser p = mapper.getFactory().createParser(text)) {
            p.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            // Exact decimals, so that the range check sees the number as written.
            tree = exact(mapper).readTree(p);
            if (p.nextToken() != null) {
                throw ApiException.badRequest("Malformed JSON: content after the JSON value (at character "
                        + p.currentTokenLocation().getCharOffset() + "); send one value per request");
            }
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("Malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new IllegalStateException(e); // reading a String
        }
        check(tree, new ArrayDeque<>());
        return tree;
    }

    /** Numbers a double holds and strings with paired surrogates only, everywhere in the value. */
    private static void check(JsonNode node, Deque<String> path) {
        switch (node.getNodeType()) {
            case OBJECT -> {
                for (Map.Entry<String, JsonNode> f : node.properties()) {
                    path.addLast("." + f.getKey());
                    checkText(f.getKey(), path);
                    check(f.getValue(), path);
                    path.removeLast();
                }
            }
            case ARRAY -> {
                for (int i = 0; i < node.size(); i++) {
                    path.addLast("[" + i + "]");
                    check(node.get(i), path);
                    path.removeLast();
                }
            }
            case STRING -> checkText(node.textValue(), path);
            case NUMBER -> {
                BigDecimal v = node.isBigDecimal() ? node.decimalValue() : new BigDecimal(node.bigIntegerValue());
                double d = v.doubleValue();
                if (Double.isInfinite(d) || (d == 0 && v.signum() != 0)) {
                    throw ApiException.badRequest("Invalid number " + quote(v.toString()) + at(path)
                            + ": outside the range of a double (a receiver would read it as "
                            + (d == 0 ? "0" : "Infinity") + ")");
                }
            }
            default -> {
                // booleans and null
            }
        }
    }

    private static void checkText(String s, Deque<String> path) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw ApiException.badRequest(String.format("Invalid string%s: unpaired surrogate \\u%04x at "
                        + "character %d (it has no UTF-8 form)", at(path), (int) c, i));
            }
        }
    }

    /** From a START_OBJECT to its END_OBJECT: the text of the {@code data} value, or null. */
    private static String dataOf(JsonParser p, String text) throws IOException {
        String data = null;
        JsonToken t = p.nextToken();
        while (t == JsonToken.FIELD_NAME) {
            boolean isData = "data".equals(p.currentName());
            p.nextToken();
            int start = (int) p.currentTokenLocation().getCharOffset();
            p.skipChildren();
            t = p.nextToken(); // the next field name, or the end of the object
            if (isData) {
                data = compact(text, start, (int) p.currentTokenLocation().getCharOffset());
            }
        }
        return data;
    }

    /**
     * {@code text[start, end)}, one value followed by whitespace and perhaps its separating comma, without
     * the whitespace outside strings and without that comma.
     */
    static String compact(String text, int start, int end) {
        StringBuilder out = new StringBuilder(end - start);
        boolean inString = false;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (inString) {
                out.append(c);
                if (c == '\\') {
                    out.append(text.charAt(++i));
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                out.append(c);
                inString = c == '"';
            }
        }
        int n = out.length();
        if (n > 0 && out.charAt(n - 1) == ',') {
            out.setLength(n - 1);
        }
        return out.toString();
    }

    private static String at(Deque<String> path) {
        if (path.isEmpty()) {
            return "";
        }
        String p = String.join("", path);
        return " at " + quote(p.startsWith(".") ? p.substring(1) : p);
    }

    private static String quote(String s) {
        return s.length() <= QUOTE ? s : s.substring(0, QUOTE) + "…";
    }
}
