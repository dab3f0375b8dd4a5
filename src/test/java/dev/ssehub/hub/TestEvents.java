package dev.ssehub.hub;

import java.time.Instant;
import java.util.List;

/**
 * Events made by hand, with a given id and an exact wire length, for tests of the byte bounds (outboxes,
 * writes, the replay log): ids the memory backplane hands out vary in length, these do not.
 */
final class TestEvents {

    private TestEvents() {
    }

    /**
     * An event {@code millis-seq} of type {@code type}, published at {@code millis}, whose data is a JSON
     * string padded so that its wire frame is exactly {@code wireLength} bytes.
     */
    static Event sized(long millis, long seq, String type, int wireLength) {
        EventId id = new EventId(millis, seq);
        int bare = WireFormat.event(id.toString(), type, "\"\"").length;
        if (wireLength < bare) {
            throw new IllegalArgumentException("the smallest such event is " + bare + " bytes, not " + wireLength);
        }
        String data = "\"" + "x".repeat(wireLength - bare) + "\"";
        Event e = new Event(id, new Event.Draft(type, data, null, null), Instant.ofEpochMilli(millis), System.nanoTime());
        if (e.wire().length() != wireLength) {
            throw new AssertionError("made " + e.wire().length() + " bytes, not " + wireLength);
        }
        return e;
    }

    /** An event {@code 1000-seq} of type {@code tick}, exactly {@code wireLength} bytes on the wire. */
    static Event sized(long seq, int wireLength) {
        return sized(1000, seq, "tick", wireLength);
    }

    /** JSON data of {@code n} + 2 bytes (a string of {@code n} letters), for published events of about a given size. */
    static String padding(int n) {
        return "\"" + "x".repeat(n) + "\"";
    }

    /** The wire bytes of these events together. */
    static long wireBytes(Iterable<Event> events) {
        long n = 0;
        for (Event e : events) {
            n += e.wire().length();
        }
        return n;
    }

    /** The events' ids, as the stream writes them. */
    static List<String> ids(List<Event> events) {
        return events.stream().map(Event::idString).toList();
    }
}
