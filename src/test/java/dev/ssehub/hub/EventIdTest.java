package dev.ssehub.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link EventId}: the {@code <epochMillis>-<sequence>} text a client sends back, its order, and the generator. */
class EventIdTest {

    @Test
    void parsesWhatItFormats() {
        EventId id = new EventId(1_700_000_000_123L, 42);
        assertEquals("1700000000123-42", id.toString());
        assertEquals(id, EventId.parse("1700000000123-42"));
        assertEquals(new EventId(0, 0), EventId.parse("0-0"));
        EventId max = new EventId(Long.MAX_VALUE, Long.MAX_VALUE);
        assertEquals(max, EventId.parse(max.toString()));
        // Leading zeros are digits like any other: the value is what counts.
        assertEquals(new EventId(7, 3), EventId.parse("007-0003"));
    }

    @ParameterizedTest
    @ValueSource(strings = { "", "-", "1", "1-", "-1", "12", "a-1", "1-a", "1-2-3", "1--2", "+1-2", "1-+2", " 1-2", "1-2 ",
            "1 -2", "1.5-2", "0x1-2", "1-2\n", "1-2\r\nid: 9-9", "١-٢", "9223372036854775808-0",
            "0-9223372036854775808", "99999999999999999999-1" })
    void rejectsAnythingElse(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EventId.parse(text));
        assertTrue(e.getMessage().startsWith("expected <epochMillis>-<sequence>"), e.getMessage());
        assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\r"),
                "control characters of the input are not echoed: " + e.getMessage());
    }

    @Test
    void anOverlongIdIsRejectedAndCutInTheMessage() {
        // Numerically fine (leading zeros), but no id we hand out is that long: refused before parsing.
        String overlong = "1-" + "0".repeat(10_000) + "1";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EventId.parse(overlong));
        assertTrue(e.getMessage().length() < 200, e.getMessage());
    }

    @Test
    void partsMustNotBeNegative() {
        assertThrows(IllegalArgumentException.class, () -> new EventId(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> new EventId(0, -1));
    }

    @Test
    void ordersByMillisThenSequenceAsNumbersNotText() {
        List<EventId> sorted = List.of(EventId.parse("9-5"), EventId.parse("10-0"), EventId.parse("10-2"),
                EventId.parse("10-10"), EventId.parse("100-0"));
        for (int i = 0; i < sorted.size(); i++) {
            for (int j = 0; j < sorted.size(); j++) {
                EventId a = sorted.get(i);
                EventId b = sorted.get(j);
                assertEquals(Integer.signum(Integer.compare(i, j)), Integer.signum(a.compareTo(b)), a + " vs " + b);
                assertEquals(i > j, a.isAfter(b), a + " after " + b);
            }
        }
        // Text order would put "10-10" before "10-2" and "100-0" before "9-5".
        List<EventId> shuffled = new ArrayList<>(sorted);
        java.util.Collections.shuffle(shuffled, new Random(1));
        shuffled.sort(null);
        assertEquals(sorted, shuffled);
    }

    @Test
    void generatorIsStrictlyIncreasingWhenTheClockStandsStillOrStepsBack() {
        EventId.Generator g = new EventId.Generator();
        long[] clock = { 1000, 1000, 1000, 1001, 999, 500, 1001, 1002, 1002, 5000 };
        List<EventId> ids = new ArrayList<>();
        for (long now : clock) {
            ids.add(g.next(now));
        }
        for (int i = 1; i < ids.size(); i++) {
            assertTrue(ids.get(i).isAfter(ids.get(i - 1)), ids.get(i) + " after " + ids.get(i - 1));
        }
        assertEquals(List.of("1000-0", "1000-1", "1000-2", "1001-0", "1001-1", "1001-2", "1001-3", "1002-0", "1002-1",
                "5000-0"), ids.stream().map(EventId::toString).toList());
    }
}
