package dev.ssehub.hub;

import static dev.ssehub.hub.TestEvents.sized;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;

/**
 * {@link ReplayLog}: positions in publish order, a ring that wraps, eviction by size, by bytes and by age,
 * the bytes it holds, reads bounded in events, positions scanned and bytes that say when a cursor fell off
 * the log, and where a resuming client starts and whether it missed events.
 */
class ReplayLogTest {

    private static final long HOUR = 3_600_000;
    private static final Predicate<Event> ALL = e -> true;

    /** An event with id {@code millis-seq}, published at {@code millis}. */
    private static Event event(long millis, long seq, String type) {
        return new Event(new EventId(millis, seq), new Event.Draft(type, "{}", null, null), Instant.ofEpochMilli(millis),
                System.nanoTime());
    }

    /** Appends {@code n} events {@code 1000-0 … 1000-(n-1)} and returns them. */
    private static List<Event> fill(ReplayLog log, int n) {
        List<Event> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Event e = event(1000, i, "t");
            log.append(e, 1000);
            out.add(e);
        }
        return out;
    }

    private static List<EventId> ids(List<Event> events) {
        return events.stream().map(Event::id).toList();
    }

    @Test
    void numbersEventsAndReadsThemForward() {
        ReplayLog log = new ReplayLog(8, HOUR, Long.MAX_VALUE, new EventId(0, 0));
        List<Event> in = fill(log, 5);
        for (int i = 0; i < 5; i++) {
            assertEquals(i, in.get(i).position);
        }
        assertEquals(5, log.head());
        assertEquals(5, log.size());

        ReplayLog.Chunk all = log.read(0, 100, 100, Long.MAX_VALUE, ALL);
        assertEquals(ids(in), ids(all.events()));
        assertEquals(5, all.next());
        assertFalse(all.fellBehind());
        assertEquals(in.get(0).id(), all.oldest());

        ReplayLog.Chunk two = log.read(2, 2, 100, Long.MAX_VALUE, ALL);
        assertEquals(ids(in.subList(2, 4)), ids(two.events()));
        assertEquals(4, two.next());

        ReplayLog.Chunk atHead = log.read(5, 100, 100, Long.MAX_VALUE, ALL);
        assertTrue(atHead.events().isEmpty());
        assertEquals(5, atHead.next());
        assertFalse(atHead.fellBehind());
    }

    @Test
    void wrapsAroundTheRingAndEvictsTheOldestWhenFull() {
        ReplayLog log = new ReplayLog(4, HOUR, Long.MAX_VALUE, new EventId(0, 0));
        List<Event> in = fill(log, 11);
        assertEquals(4, log.size());
        assertEquals(11, log.head());
        for (int p = 0; p < 11; p++) {
            assertEquals(p >= 7, log.holds(p), "holds " + p);
        }
        // Positions 7..10 sit in slots 3, 0, 1, 2: the read crosses the end of the array.
        ReplayLog.Chunk c = log.read(7, 100, 100, Long.MAX_VALUE, ALL);
        assertEquals(ids(in.subList(7, 11)), ids(c.events()));
        assertFalse(c.fellBehind());
        assertEquals(in.get(7).id(), c.oldest());
        // The binary search for a resume point works across the wrap too.
        for (int i = 6; i < 11; i++) {
            ReplayLog.Start s = log.startAfter(in.get(i).id());
            assertEquals(i + 1, s.position(), "resume after " + in.get(i).id());
            assertFalse(s.truncated(), "nothing missed after " + in.get(i).id());
            assertEquals(in.get(7).id(), s.oldest());
        }
    }

    @Test
    void aCursorOnAnEvictedPositionFellBehindAndReadsOnFromTheOldest() {
        ReplayLog log = new ReplayLog(4, HOUR, Long.MAX_VALUE, new EventId(0, 0));
        List<Event> in = fill(log, 10);
        ReplayLog.Chunk c = log.read(2, 100, 100, Long.MAX_VALUE, ALL);
        assertTrue(c.fellBehind());
        assertEquals(in.get(6).id(), c.oldest());
        assertEquals(ids(in.subList(6, 10)), ids(c.events()));
        assertEquals(10, c.next());
    }

    @Test
    void evictsByAgeOnAppendAndOnTheTick() {
        ReplayLog log = new ReplayLog(100, 1000, Long.MAX_VALUE, new EventId(0, 0));
        Event e0 = event(10_000, 0, "t");
        Event e1 = event(10_500, 0, "t");
        Event e2 = event(11_000, 0, "t");
        Event e3 = event(11_600, 0, "t");
        log.append(e0, 10_000);
        log.append(e1, 10_500);
        log.append(e2, 11_000);
        assertEquals(3, log.size(), "exactly maxAge old is still kept");
        log.append(e3, 11_600);
        assertEquals(List.of(e2.id(), e3.id()), ids(log.read(0, 100, 100, Long.MAX_VALUE, ALL).events()), "append ages the log");
        assertFalse(log.holds(e1.position));

        log.evictExpired(12_000);
        assertEquals(2, log.size());
        log.evictExpired(12_001);
        assertEquals(List.of(e3.id()), ids(log.read(0, 100, 100, Long.MAX_VALUE, ALL).events()), "the tick ages the log");
        log.evictExpired(12_601);
        assertEquals(0, log.size());
        assertEquals(4, log.head(), "positions are not reused");

        ReplayLog.Chunk empty = log.read(3, 100, 100, Long.MAX_VALUE, ALL);
        assertTrue(empty.events().isEmpty());
        assertTrue(empty.fellBehind());
        assertNull(empty.oldest());
        ReplayLog.Start s = log.startAfter(e1.id());
        assertTrue(s.truncated(), "a client that saw e1 missed e2 and e3, which aged out");
        assertEquals(4, s.position());
        assertNull(s.oldest());
        assertFalse(log.startAfter(e3.id()).truncated(), "a client that saw the last event missed nothing");
    }

    @Test
    void truncatedWhenTheClientMissedEvictedEventsOrPredatesThisProcess() {
        EventId historyStart = new EventId(1000, 0);
        ReplayLog log = new ReplayLog(3, HOUR, Long.MAX_VALUE, historyStart);
        List<Event> in = fill(log, 5); // 1000-0 … 1000-4; 1000-0 and 1000-1 evicted

        ReplayLog.Start missed = log.startAfter(in.get(0).id());
        assertTrue(missed.truncated(), "1000-1 is gone");
        assertEquals(2, missed.position());
        assertEquals(in.get(2).id(), missed.oldest());

        ReplayLog.Start sawLastEvicted = log.startAfter(in.get(1).id());
        assertFalse(sawLastEvicted.truncated(), "everything after 1000-1 is held");
        assertEquals(2, sawLastEvicted.position());

        ReplayLog.Start upToDate = log.startAfter(in.get(4).id());
        assertFalse(upToDate.truncated());
        assertEquals(5, upToDate.position());

        ReplayLog.Start future = log.startAfter(new EventId(9999, 0));
        assertFalse(future.truncated());
        assertEquals(5, future.position());

        ReplayLog.Start before = log.startAfter(new EventId(999, 7));
        assertTrue(before.truncated(), "an id from before this process started: we cannot know what it missed");
        assertEquals(2, before.position());
    }

    @Test
    void aFreshLogIsTruncatedOnlyForIdsBeforeItsHistory() {
        ReplayLog log = new ReplayLog(10, HOUR, Long.MAX_VALUE, new EventId(5000, 0));
        assertTrue(log.startAfter(new EventId(4999, 99)).truncated());
        assertFalse(log.startAfter(new EventId(5000, 0)).truncated());
        assertFalse(log.startAfter(new EventId(6000, 0)).truncated());
        assertEquals(0, log.startAfter(new EventId(6000, 0)).position());
    }

    @Test
    void resumesBetweenHeldIds() {
        ReplayLog log = new ReplayLog(10, HOUR, Long.MAX_VALUE, new EventId(0, 0));
        for (long m : new long[] { 10, 20, 30, 40 }) {
            log.append(event(m, 0, "t"), m);
        }
        assertEquals(2, log.startAfter(new EventId(25, 0)).position());
        assertEquals(0, log.startAfter(new EventId(5, 0)).position());
        assertEquals(4, log.startAfter(new EventId(40, 1)).position());
    }

    @Test
    void readsOnlyMatchingEventsWithinTheEventAndScanLimits() {
        ReplayLog log = new ReplayLog(100, HOUR, Long.MAX_VALUE, new EventId(0, 0));
        List<Event> in = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Event e = event(1000, i, i % 2 == 0 ? "a" : "b");
            log.append(e, 1000);
            in.add(e);
        }
        Predicate<Event> onlyA = e -> e.type().equals("a");

        ReplayLog.Chunk byEvents = log.read(0, 2, 100, Long.MAX_VALUE, onlyA);
        assertEquals(List.of(in.get(0).id(), in.get(2).id()), ids(byEvents.events()));
        assertEquals(3, byEvents.next(), "stops after the second match");

        ReplayLog.Chunk byScan = log.read(0, 100, 4, Long.MAX_VALUE, onlyA);
        assertEquals(List.of(in.get(0).id(), in.get(2).id()), ids(byScan.events()));
        assertEquals(4, byScan.next(), "scanned four positions");

        ReplayLog.Chunk none = log.read(1, 100, 1, Long.MAX_VALUE, onlyA);
        assertTrue(none.events().isEmpty());
        assertEquals(2, none.next(), "a window with no match still moves the cursor");
    }

    @Test
    void aLogOfSizeZeroHoldsNothingButStillNumbersAndTruncates() {
        ReplayLog log = new ReplayLog(0, HOUR, Long.MAX_VALUE, new EventId(0, 0));
        List<Event> in = fill(log, 3);
        assertEquals(List.of(0L, 1L, 2L), in.stream().map(e -> e.position).toList());
        assertEquals(0, log.size());
        assertEquals(3, log.head());
        assertFalse(log.holds(2));
        assertTrue(log.startAfter(in.get(1).id()).truncated());
        assertFalse(log.startAfter(in.get(2).id()).truncated());
        assertEquals(3, log.startAfter(in.get(1).id()).position());
    }

    @Test
    void clearForgetsTheEventsButRemembersThatSomeWereHeld() {
        ReplayLog log = new ReplayLog(10, HOUR, Long.MAX_VALUE, new EventId(0, 0));
        List<Event> in = fill(log, 4);
        log.clear();
        assertEquals(0, log.size());
        assertEquals(4, log.head());
        assertTrue(log.startAfter(in.get(1).id()).truncated());
        assertFalse(log.startAfter(in.get(3).id()).truncated());
        Event next = event(2000, 0, "t");
        log.append(next, 2000);
        assertEquals(List.of(next.id()), ids(log.read(0, 10, 10, Long.MAX_VALUE, ALL).events()));
        assertEquals(4, next.position);
    }

    /** Appends events of these wire lengths, {@code 1000-0}, {@code 1000-1}, …, and returns them. */
    private static List<Event> fillSized(ReplayLog log, int... lengths) {
        List<Event> out = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++) {
            Event e = sized(i, lengths[i]);
            log.append(e, 1000);
            out.add(e);
        }
        return out;
    }

    private static List<EventId> held(ReplayLog log) {
        return ids(log.read(0, Integer.MAX_VALUE, Integer.MAX_VALUE, Long.MAX_VALUE, ALL).events());
    }

    @Test
    void evictsTheOldestEventsByBytesOnAppend() {
        ReplayLog log = new ReplayLog(100, HOUR, 1000, new EventId(0, 0));
        List<Event> in = fillSized(log, 250, 250, 250, 250);
        assertEquals(1000, log.bytes(), "exactly max-bytes is kept");
        assertEquals(ids(in), held(log));

        Event e4 = sized(4, 300);
        log.append(e4, 1000); // 1,300: the oldest go until it fits, 1,050 is still too much
        in.add(e4);
        assertEquals(ids(in.subList(2, 5)), held(log));
        assertEquals(800, log.bytes());
        assertFalse(log.holds(1));
        assertTrue(log.holds(2));

        Event e5 = sized(5, 200);
        log.append(e5, 1000); // 1,000: nothing goes
        in.add(e5);
        assertEquals(ids(in.subList(2, 6)), held(log));
        assertEquals(1000, log.bytes());

        assertTrue(log.startAfter(in.get(0).id()).truncated(), "1000-1 was evicted");
        assertFalse(log.startAfter(in.get(1).id()).truncated(), "everything after 1000-1 is held");
        assertEquals(2, log.startAfter(in.get(1).id()).position());
    }

    @Test
    void anEventLargerThanMaxBytesIsEvictedAtOnceAndAClientThatNeededItIsToldSo() {
        ReplayLog log = new ReplayLog(100, HOUR, 1000, new EventId(0, 0));
        List<Event> in = fillSized(log, 300, 1001);
        assertEquals(0, log.size(), "the big one and everything before it are gone");
        assertEquals(0, log.bytes());
        assertEquals(2, log.head());
        assertEquals(1, in.get(1).position);
        assertFalse(log.holds(1));

        ReplayLog.Start missed = log.startAfter(in.get(0).id());
        assertTrue(missed.truncated(), "a client that saw 1000-0 never gets 1000-1");
        assertEquals(2, missed.position());
        assertNull(missed.oldest());
        assertFalse(log.startAfter(in.get(1).id()).truncated(), "a client that saw the big one missed nothing");

        ReplayLog.Chunk c = log.read(1, 100, 100, Long.MAX_VALUE, ALL);
        assertTrue(c.fellBehind(), "a cursor on the big one fell off the log");
        assertTrue(c.events().isEmpty());
        assertEquals(2, c.next());

        Event after = sized(2, 1000);
        log.append(after, 1000);
        assertEquals(List.of(after.id()), held(log));
        assertEquals(1000, log.bytes());
    }

    @Test
    void bytesFollowTheEventsHeldThroughWrapAgeAndClear() {
        ReplayLog log = new ReplayLog(4, 1000, Long.MAX_VALUE, new EventId(0, 0));
        List<Event> in = new ArrayList<>();
        for (int i = 0; i < 11; i++) {
            Event e = TestEvents.sized(10_000 + 100 * i, 0, "t", 100 + 10 * i);
            log.append(e, 10_000 + 100 * i);
            in.add(e);
            List<Event> expected = in.subList(Math.max(0, i - 3), i + 1); // the ring holds the last four
            assertEquals(ids(expected), held(log), "after " + (i + 1) + " appends");
            assertEquals(expected.stream().mapToLong(x -> x.wire().length()).sum(), log.bytes(),
                    "after " + (i + 1) + " appends");
        }
        // Held: published at 10,700 … 11,000 (170, 180, 190 and 200 bytes).
        log.evictExpired(11_750);
        assertEquals(ids(in.subList(8, 11)), held(log));
        assertEquals(180 + 190 + 200, log.bytes());
        log.evictExpired(11_950);
        assertEquals(200, log.bytes());

        Event e = TestEvents.sized(11_960, 0, "t", 123);
        log.append(e, 11_960);
        assertEquals(323, log.bytes());
        log.clear();
        assertEquals(0, log.size());
        assertEquals(0, log.bytes());
        Event next = TestEvents.sized(11_970, 0, "t", 77);
        log.append(next, 11_970);
        assertEquals(77, log.bytes());
        log.evictExpired(20_000);
        assertEquals(0, log.bytes());
    }

    @Test
    void aReadStopsBeforeMaxBytesButReturnsAtLeastOneEvent() {
        ReplayLog log = new ReplayLog(100, HOUR, Long.MAX_VALUE, new EventId(0, 0));
        List<Event> in = fillSized(log, 100, 200, 300, 400, 100);

        ReplayLog.Chunk upTo300 = log.read(0, 100, 100, 300, ALL);
        assertEquals(ids(in.subList(0, 2)), ids(upTo300.events()), "100 + 200 = 300 exactly");
        assertEquals(2, upTo300.next(), "the next read starts at the event left out");

        ReplayLog.Chunk one = log.read(2, 100, 100, 300, ALL);
        assertEquals(ids(in.subList(2, 3)), ids(one.events()));
        assertEquals(3, one.next());

        ReplayLog.Chunk larger = log.read(3, 100, 100, 300, ALL);
        assertEquals(ids(in.subList(3, 4)), ids(larger.events()), "an event over max-bytes still goes, alone");
        assertEquals(4, larger.next());

        ReplayLog.Chunk tiny = log.read(0, 100, 100, 1, ALL);
        assertEquals(ids(in.subList(0, 1)), ids(tiny.events()));
        assertEquals(1, tiny.next());

        ReplayLog.Chunk byEvents = log.read(0, 2, 100, Long.MAX_VALUE, ALL);
        assertEquals(ids(in.subList(0, 2)), ids(byEvents.events()), "max-events still bounds the read");
    }

    @Test
    void onlyTheEventsReadCountTowardsMaxBytes() {
        ReplayLog log = new ReplayLog(100, HOUR, Long.MAX_VALUE, new EventId(0, 0));
        List<Event> in = new ArrayList<>();
        int[] lengths = { 100, 5000, 100, 5000, 100, 5000 };
        for (int i = 0; i < lengths.length; i++) {
            Event e = TestEvents.sized(1000, i, i % 2 == 0 ? "a" : "b", lengths[i]);
            log.append(e, 1000);
            in.add(e);
        }
        ReplayLog.Chunk c = log.read(0, 100, 100, 250, e -> e.type().equals("a"));
        assertEquals(List.of(in.get(0).id(), in.get(2).id()), ids(c.events()), "the skipped events weigh nothing");
        assertEquals(4, c.next(), "stopped at the third match, which would make 300");
    }
}
