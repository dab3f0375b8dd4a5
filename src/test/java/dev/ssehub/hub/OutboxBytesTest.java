package dev.ssehub.hub;

import static dev.ssehub.hub.TestEvents.ids;
import static dev.ssehub.hub.TestEvents.padding;
import static dev.ssehub.hub.TestEvents.sized;
import static dev.ssehub.hub.TestEvents.wireBytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.hub.FakeChannel.Completion;
import dev.ssehub.hub.HubSettings.SlowConsumerPolicy;
import dev.ssehub.support.LoopGate;

/**
 * One stream's outbox in bytes ({@link OutboxLimits}): behind a write its client has not taken, a stream
 * is full with {@code sse.queue-bytes} waiting (disconnect cuts it; drop-oldest drops its oldest events
 * until the new one fits); while no write is pending it may hold {@code sse.queue-bytes} +
 * {@code sse.max-batch-bytes}; each event counts its wire length once in each stream it waits in.
 *
 * <p>The frame bound is left far away (TestHub's default queue size), so only bytes decide. Events offered
 * directly ({@link Connection#offer}, as the publish path does) are made with an exact wire length
 * ({@link TestEvents}), so the bounds are checked to the byte; the published ones check what a publisher
 * sees.
 */
class OutboxBytesTest {

    private TestHub h;

    @AfterEach
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void behindAPendingWriteAStreamIsFullWithQueueBytesWaiting() {
        h = new TestHub(new TestHub.Settings().queueBytes(1000));
        TestHub.Stream exact = h.behind("u1");
        TestHub.Stream over = h.behind("u2");

        Event a1 = sized(1, 400);
        Event a2 = sized(2, 600);
        assertTrue(exact.connection().offer(a1));
        assertTrue(exact.connection().offer(a2), "exactly sse.queue-bytes may wait");
        assertEquals(1000, exact.connection().queuedBytes());
        assertFalse(exact.connection().isClosed());

        Event b1 = sized(3, 400);
        Event b2 = sized(4, 601);
        assertTrue(over.connection().offer(b1));
        assertFalse(over.connection().offer(b2), "one byte more than sse.queue-bytes");
        assertTrue(over.connection().isClosed());
        assertEquals(1, h.listener.closedBy(CloseReason.SLOW_CONSUMER));
        assertEquals(1, h.listener.closedStreams());
        assertEquals(1, over.channel().aborts(), "a stalled socket is aborted");
        assertEquals(1, h.listener.droppedFor(DropReason.CONNECTION_CLOSED), "b1 was waiting");
        assertEquals(0, h.listener.droppedFor(DropReason.SLOW_CONSUMER));
        assertEquals(0, over.connection().queuedBytes());
        assertEquals(1000, h.hub.outboxBytes(), "b1 released with its stream, b2 never taken: only a1 and a2 wait");

        FakeChannel ch = exact.channel();
        ch.completion(Completion.SYNC);
        ch.release();
        ch.awaitEvent(a2.idString());
        assertEquals(List.of(a1.idString(), a2.idString()), ch.eventIds());
        assertEquals(0, exact.connection().queuedBytes());
        assertEquals(0, h.hub.outboxBytes());
        assertFalse(exact.connection().isClosed());
    }

    @Test
    void aPublishThatOverflowsAStreamBehindClosesItAndIsNotCountedAsDeliveredToIt() throws Exception {
        // Published events of about 1,040 bytes (ids vary by a few): two fit in 2,500 bytes, three do not.
        h = new TestHub(new TestHub.Settings().queueBytes(2500));
        TestHub.Stream slow = h.behind("u1");
        TestHub.Stream fast = h.keepingUp("u2");
        List<Event> events = new ArrayList<>();
        try (LoopGate busy = fast.channel().pause()) {
            for (int i = 0; i < 2; i++) {
                var r = h.publish("tick", padding(1000), Target.BROADCAST);
                assertEquals(2, r.delivered(), "event " + i);
                events.add(r.event());
            }
            assertEquals(wireBytes(events), slow.connection().queuedBytes());

            var third = h.publish("tick", padding(1000), Target.BROADCAST);
            events.add(third.event());
            assertEquals(1, third.delivered(), "queued to the stream keeping up only");
            assertTrue(slow.connection().isClosed());
            assertEquals(1, h.listener.closedBy(CloseReason.SLOW_CONSUMER));
            assertEquals(2, h.listener.droppedFor(DropReason.CONNECTION_CLOSED));
            assertEquals(wireBytes(events), fast.connection().queuedBytes());
        }
        fast.channel().awaitEvent(events.get(2).idString());
        assertEquals(ids(events), fast.channel().eventIds());
        assertFalse(fast.connection().isClosed());
    }

    @Test
    void dropOldestDropsTheOldestEventsUntilTheNewOneFits() {
        h = new TestHub(new TestHub.Settings().queueBytes(1000).policy(SlowConsumerPolicy.DROP_OLDEST));
        TestHub.Stream s = h.behind("u1");
        Connection c = s.connection();

        List<Event> first = List.of(sized(1, 250), sized(2, 250), sized(3, 250), sized(4, 250));
        for (Event e : first) {
            assertTrue(c.offer(e));
        }
        assertEquals(1000, c.queuedBytes());
        assertEquals(0, c.eventsDropped());

        // 600 bytes more: 1,000 + 600 - 3 × 250 = 850 is the first total that fits.
        Event big = sized(5, 600);
        assertTrue(c.offer(big), "the new event is queued");
        assertEquals(2, c.queued());
        assertEquals(850, c.queuedBytes());
        assertEquals(3, c.eventsDropped());
        assertEquals(3, h.listener.droppedFor(DropReason.SLOW_CONSUMER));
        assertEquals(850, h.hub.outboxBytes(), "the dropped events no longer count");

        Event fits = sized(6, 150);
        assertTrue(c.offer(fits), "up to exactly sse.queue-bytes, nothing more is dropped");
        assertEquals(1000, c.queuedBytes());
        assertEquals(3, c.eventsDropped());

        FakeChannel ch = s.channel();
        ch.completion(Completion.SYNC);
        ch.release();
        ch.awaitEvent(fits.idString());
        assertEquals(List.of(first.get(3).idString(), big.idString(), fits.idString()), ch.eventIds(),
                "the newest, in order");
        assertFalse(c.isClosed());
        assertEquals(0, h.listener.closedStreams());
        assertEquals(0, h.hub.outboxBytes());
    }

    @Test
    void whileNoWriteIsPendingAStreamMayHoldQueueBytesPlusBurstBytes() throws Exception {
        h = new TestHub(new TestHub.Settings().queueBytes(1000).maxBatchBytes(2000));
        TestHub.Stream exact = h.keepingUp("u1");
        TestHub.Stream over = h.keepingUp("u2");
        List<Event> toExact = new ArrayList<>();
        try (LoopGate a = exact.channel().pause(); LoopGate b = over.channel().pause()) {
            // The loops are busy, not the clients: the frames wait for the loop to come round.
            for (int i = 0; i < 5; i++) {
                Event e = sized(i, 500);
                assertTrue(exact.connection().offer(e), "event " + i);
                toExact.add(e);
                assertTrue(over.connection().offer(sized(100 + i, 500)), "event " + i);
            }
            Event last = sized(5, 500);
            assertTrue(exact.connection().offer(last), "exactly queue-bytes + burst-bytes may wait");
            toExact.add(last);
            assertEquals(3000, exact.connection().queuedBytes());
            assertFalse(exact.connection().isClosed());

            assertFalse(over.connection().offer(sized(105, 501)), "one byte more than queue-bytes + burst-bytes");
            assertTrue(over.connection().isClosed());
            assertEquals(1, h.listener.closedBy(CloseReason.SLOW_CONSUMER));
            assertEquals(5, h.listener.droppedFor(DropReason.CONNECTION_CLOSED));
        }
        exact.channel().awaitEvent(last(toExact).idString());
        assertEquals(ids(toExact), exact.channel().eventIds());
        assertEquals(2, exact.channel().writeCount(), "the first frame, then the whole burst in one write");
        assertFalse(exact.connection().isClosed());
        over.channel().settle();
        assertEquals(1, over.channel().writeCount(), "nothing written after the close");
        assertEquals(0, h.hub.outboxBytes());
    }

    @Test
    void dropOldestWhileNoWriteIsPendingDropsOnlyBeyondQueueBytesPlusBurstBytes() throws Exception {
        h = new TestHub(new TestHub.Settings().queueBytes(1000).maxBatchBytes(2000)
                .policy(SlowConsumerPolicy.DROP_OLDEST));
        TestHub.Stream s = h.keepingUp("u1");
        List<Event> events = new ArrayList<>();
        try (LoopGate busy = s.channel().pause()) {
            for (int i = 0; i < 8; i++) {
                Event e = sized(i, 500);
                assertTrue(s.connection().offer(e));
                events.add(e);
                assertEquals(Math.max(0, i - 5), s.connection().eventsDropped(), "after event " + i);
            }
            assertEquals(3000, s.connection().queuedBytes());
        }
        s.channel().awaitEvent(last(events).idString());
        assertEquals(ids(events.subList(2, 8)), s.channel().eventIds());
        assertEquals(2, h.listener.droppedFor(DropReason.SLOW_CONSUMER));
        assertFalse(s.connection().isClosed());
    }

    @Test
    void eachEventCountsItsWireLengthOnceInEachStreamItWaitsIn() {
        h = new TestHub();
        TestHub.Stream a = h.behind("u1");
        TestHub.Stream b = h.behind("u2");

        List<Event> shared = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            var r = h.publish("tick", padding(100 * (i + 1)), Target.BROADCAST);
            assertEquals(2, r.delivered());
            shared.add(r.event());
        }
        var onlyB = h.publish("tick", padding(50), new Target(List.of("u2"), null, null, null));
        assertEquals(1, onlyB.delivered());
        long sharedBytes = wireBytes(shared);
        long bBytes = sharedBytes + onlyB.event().wire().length();

        assertEquals(sharedBytes, a.connection().queuedBytes());
        assertEquals(bBytes, b.connection().queuedBytes());
        assertEquals(bBytes, h.hub.outboxBytes(), "across streams, each event counts once");

        a.channel().releaseAndAwaitNextWrite();
        assertEquals(0, a.connection().queued());
        assertEquals(0, a.connection().queuedBytes(), "handed to a write: no longer waiting in a's outbox");
        assertEquals(bBytes, h.hub.outboxBytes(), "b still holds every event");

        b.channel().releaseAndAwaitNextWrite();
        assertEquals(0, b.connection().queuedBytes());
        assertEquals(0, h.hub.outboxBytes());
        assertEquals(ids(shared), a.channel().eventIds());
        List<Event> toB = new ArrayList<>(shared);
        toB.add(onlyB.event());
        assertEquals(ids(toB), b.channel().eventIds());
    }

    private static Event last(List<Event> events) {
        return events.get(events.size() - 1);
    }
}
