package dev.ssehub.api;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ssehub.hub.Event;
import dev.ssehub.hub.EventId;
import dev.ssehub.hub.Subscription;
import dev.ssehub.hub.Target;
import dev.ssehub.hub.WireFormat;

/**
 * Validation at the edge: every id, topic and type that reaches the hub has been checked here, so none
 * can carry CR, LF or NUL onto the wire. Violations become 400 (413 for oversized data) problems that
 * say which field is wrong.
 */
final class Requests {

    /** User, session, client ids, topics and idempotency keys: printable ASCII, no spaces, 1–128 characters. */
    static final Pattern NAME = Pattern.compile("[!-~]{1,128}");
    static final String NAME_RULE = "1 to 128 printable ASCII characters without spaces";
    static final int MAX_LIST = 1000;
    static final int MAX_STREAM_FILTERS = Subscription.MAX_ENTRIES;
    private static final Set<String> EVENT_FIELDS = Set.of("type", "data", "id", "target");
    private static final Set<String> TARGET_FIELDS = Set.of("userIds", "sessionIds", "clientIds", "topics");

    private Requests() {
    }

    /**
     * JSON bodies must say so: {@code @Consumes} lets a request without {@code Content-Type} through, and a
     * charset other than UTF-8 would be read as UTF-8 anyway (RFC 8259 knows no other).
     */
    static void requireJson(String contentType) {
        if (contentType == null || contentType.isBlank()) {
            throw new ApiException(415, "unsupported-media-type", "Unsupported Media Type",
                    "Content-Type: application/json is required", null);
        }
        for (String param : contentType.split(";")) {
            String p = param.trim().toLowerCase(Locale.ROOT);
            if (p.startsWith("charset=") && !p.substring(8).replace("\"", "").equals("utf-8")) {
                throw new ApiException(415, "unsupported-media-type", "Unsupported Media Type",
                        "JSON is read as UTF-8; got " + param.trim(), null);
            }
        }
    }

    /**
     * One event of a publish request; {@code where} names it in errors ("" or "[3]" in a batch).
     * {@code dataJson} is its {@code data} as published ({@link JsonBodies}), null when absent.
     */
    static Event.Draft draft(JsonNode node, String dataJson, String where, int maxEventBytes) {
        if (node == null || !node.isObject()) {
            throw ApiException.badRequest("Expected a JSON object" + at(where));
        }
        rejectUnknown(node, EVENT_FIELDS, where);
        JsonNode type = node.get("type");
        if (type == null || type.isNull()) {
            throw ApiException.badRequest("Missing field " + where + "type");
        }
        if (!type.isTextual() || !WireFormat.isValidType(type.textValue())) {
            throw ApiException.badRequest("Invalid " + where + "type: must match " + WireFormat.TYPE_PATTERN.pattern()
                    + " (no spaces, CR or LF)");
        }
        String key = null;
        JsonNode id = node.get("id");
        if (id != null && !id.isNull()) {
            if (!id.isTextual() || !NAME.matcher(id.textValue()).matches()) {
                throw ApiException.badRequest("Invalid " + where + "id: the idempotency key must be " + NAME_RULE);
            }
            key = id.textValue();
        }
        if (dataJson == null) {
            dataJson = "null";
        }
        int bytes = dataJson.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > maxEventBytes) {
            throw new ApiException(413, "event-too-large", "Event data too large",
                    "The encoded JSON of " + where + "data is " + bytes + " bytes; the limit (sse.max-event-bytes) is "
                            + maxEventBytes,
                    null);
        }
        return new Event.Draft(type.textValue(), dataJson, target(node.get("target"), where + "target."), key);
    }

    private static Target target(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return Target.BROADCAST;
        }
        if (!node.isObject()) {
            throw ApiException.badRequest("Invalid " + where.substring(0, where.length() - 1)
                    + ": expected an object with userIds, sessionIds, clientIds, topics");
        }
        rejectUnknown(node, TARGET_FIELDS, where);
        return new Target(names(node.get("userIds"), where + "userIds"), names(node.get("sessionIds"), where + "sessionIds"),
                names(node.get("clientIds"), where + "clientIds"), names(node.get("topics"), where + "topics"));
    }

    private static List<String> names(JsonNode node, String field) {
        if (node != null && node.size() > MAX_LIST) {
            throw ApiException.badRequest("Invalid " + field + ": at most " + MAX_LIST + " entries");
        }
        List<String> values = strings(node, field);
        for (String v : values) {
            if (!NAME.matcher(v).matches()) {
                throw ApiException.badRequest("Invalid " + field + " entry: expected " + NAME_RULE);
            }
        }
        return values;
    }

    /** A JSON array of strings ({@code null} or absent: empty). */
    static List<String> strings(JsonNode node, String field) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw ApiException.badRequest("Invalid " + field + ": expected an array of strings");
        }
        List<String> out = new ArrayList<>(node.size());
        for (JsonNode n : node) {
            if (!n.isTextual()) {
                throw ApiException.badRequest("Invalid " + field + ": expected an array of strings");
            }
            out.add(n.textValue());
        }
        return out;
    }

    private static void rejectUnknown(JsonNode node, Set<String> known, String where) {
        Iterator<Map.Entry<String, JsonNode>> it = node.fields();
        while (it.hasNext()) {
            String f = it.next().getKey();
            if (!known.contains(f)) {
                // A typo such as "targets" must not silently turn a targeted event into a broadcast.
                throw ApiException.badRequest("Unknown field " + where + f + "; allowed: "
                        + String.join(", ", Subscription.sorted(known)));
            }
        }
    }

    private static String at(String where) {
        return where.isEmpty() ? "" : " at " + where.substring(0, where.length() - 1);
    }

    /** Topics of a stream or a subscription change. */
    static Set<String> topics(List<String> values, String field) {
        return checkedSet(values, field, NAME, NAME_RULE);
    }

    /** Event types of a stream's type filter. */
    static Set<String> types(List<String> values, String field) {
        return checkedSet(values, field, WireFormat.TYPE_PATTERN, "matching " + WireFormat.TYPE_PATTERN.pattern());
    }

    private static Set<String> checkedSet(List<String> values, String field, Pattern p, String rule) {
        if (values == null || values.isEmpty()) {
            return Set.of();
        }
        if (values.size() > MAX_STREAM_FILTERS) {
            throw ApiException.badRequest("Too many " + field + " values: at most " + MAX_STREAM_FILTERS);
        }
        Set<String> out = new LinkedHashSet<>();
        for (String v : values) {
            if (v == null || !p.matcher(v).matches()) {
                throw ApiException.badRequest("Invalid " + field + " value: expected " + rule);
            }
            out.add(v);
        }
        return out;
    }

    /** An optional single id (user, session): null when absent or empty. */
    static String optionalName(String value, String field) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        if (!NAME.matcher(value).matches()) {
            throw ApiException.badRequest("Invalid " + field + ": expected " + NAME_RULE);
        }
        return value;
    }

    static EventId lastEventId(String header, String query) {
        String v = header != null && !header.isEmpty() ? header : query;
        if (v == null || v.isEmpty()) {
            return null;
        }
        try {
            return EventId.parse(v);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("Invalid Last-Event-ID: " + e.getMessage());
        }
    }

    /** An optional boolean parameter: {@code true} or {@code false}; absent or empty: false. */
    static boolean flag(String value, String name) {
        if (value == null || value.isEmpty() || value.equals("false")) {
            return false;
        }
        if (value.equals("true")) {
            return true;
        }
        throw ApiException.badRequest("Invalid " + name + ": expected true or false");
    }

    static int intParam(String value, String name, int dflt, int min, int max) {
        if (value == null || value.isEmpty()) {
            return dflt;
        }
        try {
            int v = Integer.parseInt(value);
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw ApiException.badRequest("Invalid " + name + ": expected a whole number from " + min + " to " + max);
    }
}
