package dev.ssehub.hub;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The text/event-stream encoder: the only place that knows the wire format (WHATWG HTML, "Server-sent
 * events", §9.2.6 "Interpreting an event stream"). Every frame ends with a blank line, which is what
 * makes the browser dispatch it. Fields are written as {@code name: value}; the parser strips the one
 * space after the colon.
 *
 * <p>Nothing here escapes CR or LF: a CR or LF in {@code id} or {@code event} would split the field and
 * let a publisher inject fields or whole events (CWE-93), so callers validate them first
 * ({@link #isValidType}, event ids are generated) and {@code data} is always one line of JSON.
 */
public final class WireFormat {

    /** Event types: letters, digits and {@code _.:-}, so a type can never hold CR, LF, NUL or a space. */
    public static final Pattern TYPE_PATTERN = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");

    private WireFormat() {
    }

    public static boolean isValidType(String type) {
        return type != null && TYPE_PATTERN.matcher(type).matches();
    }

    /** {@code id: <id>\nevent: <type>\ndata: <json>\n\n}. */
    public static byte[] event(String id, String type, String dataJson) {
        StringBuilder sb = new StringBuilder(24 + id.length() + type.length() + dataJson.length());
        sb.append("id: ").append(id).append('\n');
        sb.append("event: ").append(type).append('\n');
        sb.append("data: ").append(dataJson).append("\n\n");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * An event with no {@code id:} line, so it never moves the browser's last event id
     * (connection_established, heartbeat, replay_truncated).
     */
    public static byte[] control(String type, String dataJson) {
        return ("event: " + type + "\ndata: " + dataJson + "\n\n").getBytes(StandardCharsets.UTF_8);
    }

    /** The first frame: the reconnection time, then {@code connection_established}, dispatched as one event. */
    public static byte[] established(long retryMillis, String dataJson) {
        return ("retry: " + retryMillis + "\nevent: connection_established\ndata: " + dataJson + "\n\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** A comment line; the browser ignores it, proxies see traffic. */
    public static byte[] comment(String text) {
        return (": " + text + "\n\n").getBytes(StandardCharsets.UTF_8);
    }
}
