package dev.ssehub.hub;

/**
 * An event id of the form {@code <epochMillis>-<sequence>}, the form Redis Streams use, so the ids stay
 * the same when a Redis backplane assigns them. Ordered by millis, then sequence.
 */
public record EventId(long millis, long sequence) implements Comparable<EventId> {

    public EventId {
        if (millis < 0 || sequence < 0) {
            throw new IllegalArgumentException("event id parts must not be negative");
        }
    }

    /**
     * Parses an id as a client sends it back in {@code Last-Event-ID}.
     *
     * @throws IllegalArgumentException when the text is not of the form {@code <digits>-<digits>}
     */
    public static EventId parse(String text) {
        int dash = text.indexOf('-');
        if (dash <= 0 || dash == text.length() - 1 || text.length() > 41) {
            throw new IllegalArgumentException("expected <epochMillis>-<sequence>, got '" + printable(text) + "'");
        }
        try {
            return new EventId(digits(text, 0, dash), digits(text, dash + 1, text.length()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected <epochMillis>-<sequence>, got '" + printable(text) + "'");
        }
    }

    private static long digits(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                throw new NumberFormatException();
            }
        }
        return Long.parseLong(s, from, to, 10);
    }

    private static String printable(String s) {
        String cut = s.length() > 64 ? s.substring(0, 64) + "…" : s;
        return cut.replaceAll("[\\p{Cntrl}]", "?");
    }

    @Override
    public int compareTo(EventId o) {
        int c = Long.compare(millis, o.millis);
        return c != 0 ? c : Long.compare(sequence, o.sequence);
    }

    public boolean isAfter(EventId o) {
        return compareTo(o) > 0;
    }

    @Override
    public String toString() {
        return millis + "-" + sequence;
    }

    /** Hands out strictly increasing ids, also when the clock stands still or steps back. Not thread-safe. */
    public static final class Generator {
        private long lastMillis = -1;
        private long sequence;

        public EventId next(long nowMillis) {
            if (nowMillis > lastMillis) {
                lastMillis = nowMillis;
                sequence = 0;
            } else {
                sequence++;
            }
            return new EventId(lastMillis, sequence);
        }
    }
}
