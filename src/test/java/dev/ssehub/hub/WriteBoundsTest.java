package dev.ssehub.hub;

import static dev.ssehub.hub.TestEvents.ids;
import static dev.ssehub.hub.TestEvents.sized;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.ssehub.hub.FakeChannel.Completion;
import dev.ssehub.support.SseClient;

/**
 * One write of a stream takes at most {@link Connection#MAX_WRITE_FRAMES} frames and
 * {@link Connection#MAX_WRITE_BYTES} bytes, and always at least one frame, however large; whatever waits
 * beyond that goes out in the following writes, in order. Events of exact wire lengths ({@link TestEvents})
 * queue behind a write the client holds; then the client reads on and the writes are compared one by one.
 */
class WriteBoundsTest {

    private static final int KIB = 1024;

    private TestHub h;

    @AfterEach
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    /** Queues the events behind a held first write, lets the client read everything, and returns the writes after the first. */
    private List<List<String>> writesOf(List<Event> events) {
        h = new TestHub();
        TestHub.Stream s = h.open(new FakeChannel(Completion.HOLD), "u1", null, "news");
        FakeChannel ch = s.channel();
        ch.awaitHeld();
        for (Event e : events) {
            if (!s.connection().offer(e)) {
                throw new AssertionError("not queued: " + e.idString());
            }
        }
        ch.completion(Completion.SYNC);
        ch.release();
        ch.awaitEvent(events.get(events.size() - 1).idString());
        FakeChannel.eventually("every write counted", () -> h.listener.deliveredEvents() == events.size());
        assertEquals(events.size(), s.connection().eventsSent());

        List<List<String>> out = new ArrayList<>();
        List<List<SseClient.Frame>> writes = ch.writes();
        assertEquals(1, writes.get(0).size(), "the first write is the first frame alone");
        for (List<SseClient.Frame> w : writes.subList(1, writes.size())) {
            out.add(w.stream().map(SseClient.Frame::id).toList());
        }
        return out;
    }

    @ParameterizedTest(name = "{0} events of {1} bytes")
    @CsvSource({
            "2500, 100", // the frame bound decides: 1,000 frames are 100,000 bytes
            "2000, 300", // the byte bound decides: 873 frames are 261,900 bytes, 874 would be 262,200
            "1200, 512" }) // the byte bound, met exactly: 512 frames are 262,144 bytes
    void aWriteTakesAtMostMaxWriteFramesAndMaxWriteBytesAndTheRestFollowsInOrder(int n, int size) {
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            events.add(sized(i, size));
        }
        List<List<String>> writes = writesOf(events);

        int perWrite = Math.min(Connection.MAX_WRITE_FRAMES, Connection.MAX_WRITE_BYTES / size);
        List<String> all = new ArrayList<>();
        for (int w = 0; w < writes.size(); w++) {
            int expected = Math.min(perWrite, n - w * perWrite);
            assertEquals(expected, writes.get(w).size(), "frames in write " + (w + 1) + " after the first");
            all.addAll(writes.get(w));
        }
        assertEquals((n + perWrite - 1) / perWrite, writes.size());
        assertEquals(ids(events), all, "every event once, in order");
    }

    @Test
    void anEventLargerThanMaxWriteBytesGoesAloneAndExactlyMaxWriteBytesGoesTogether() {
        int[] kib = { 100, 100, 300, 10, 200, 46, 128, 128 };
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < kib.length; i++) {
            events.add(sized(i, kib[i] * KIB));
        }
        List<List<String>> writes = writesOf(events);
        assertEquals(List.of(
                ids(events.subList(0, 2)), // 200 KiB; with the next, 500 KiB
                ids(events.subList(2, 3)), // 300 KiB: too large for any write, so it goes alone
                ids(events.subList(3, 6)), // 10 + 200 + 46 = 256 KiB exactly
                ids(events.subList(6, 8))), // 128 + 128 = 256 KiB exactly
                writes);
    }
}
