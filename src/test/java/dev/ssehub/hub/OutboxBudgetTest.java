package dev.ssehub.hub;

import static dev.ssehub.hub.TestEvents.ids;
import static dev.ssehub.hub.TestEvents.padding;
import static dev.ssehub.hub.TestEvents.sized;
import static dev.ssehub.hub.TestEvents.wireBytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.hub.HubSettings.SlowConsumerPolicy;
import dev.ssehub.support.LoopGate;

/**
 * The {@link OutboxBudget} across all streams: an event counts once however many outboxes hold it, from
 * the first outbox that takes it until the last one lets it go (handed to a write, dropped, or discarded
 * when its stream closes), so the budget is back at 0 once everything was written or closed. Over the
 * budget, a stream that is behind takes no new event (disconnect: it is cut; drop-oldest: the event is
 * refused and counted as dropped, and the publish does not count it as delivered), while a stream that
 * keeps up still takes every event.
 */
class OutboxBudgetTest {

    private TestHub h;

    @AfterEach
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    /**
     * What the test expects each stream's outbox to hold (its streams all hold their writes: every event
     * published to a stream waits until the test releases that stream's write).
     */
    private static final class Model {
        final Map<TestHub.Stream, List<Event>> waiting = new LinkedHashMap<>();

        /** Distinct events waiting anywhere: what the budget must count. */
        long distinctBytes() {
            Set<Event> all = new HashSet<>();
            waiting.values().forEach(all::addAll);
            return wireBytes(all);
        }
    }

    @Test
    void eachEventCountsOnceHoweverManyStreamsHoldItUntilTheLastLetsGo() {
        int users = 10;
        int perUser = 4;
        h = new TestHub();
        Model model = new Model();
        List<TestHub.Stream> streams = new ArrayList<>();
        for (int u = 0; u < users; u++) {
            for (int k = 0; k < perUser; k++) {
                TestHub.Stream s = h.behind("u" + u);
                streams.add(s);
                model.waiting.put(s, new ArrayList<>());
            }
        }
        Random random = new Random(42);
        List<Event> published = new ArrayList<>();
        // Broadcasts, events for one user (4 streams), and events for one stream, of varying sizes.
        Runnable publishRound = () -> {
            for (int i = 0; i < 30; i++) {
                String data = padding(random.nextInt(2000));
                List<TestHub.Stream> to = new ArrayList<>();
                Target target;
                switch (i % 3) {
                    case 0 -> {
                        target = Target.BROADCAST;
                        to.addAll(streams);
                    }
                    case 1 -> {
                        String user = "u" + random.nextInt(users);
                        target = new Target(List.of(user), null, null, null);
                        streams.stream().filter(s -> s.connection().userId().equals(user)).forEach(to::add);
                    }
                    default -> {
                        TestHub.Stream one = streams.get(random.nextInt(streams.size()));
                        target = new Target(null, null, List.of(one.connection().clientId()), null);
                        to.add(one);
                    }
                }
                to.removeIf(s -> !model.waiting.containsKey(s)); // closed
                var r = h.publish("tick", data, target);
                assertEquals(to.size(), r.delivered(), "queued to every open stream it is for");
                published.add(r.event());
                for (TestHub.Stream s : to) {
                    model.waiting.get(s).add(r.event());
                }
            }
        };
        publishRound.run();
        assertBooksMatch(model);
        assertEquals(wireBytes(published), h.hub.outboxBytes(), "every event once, however many streams hold it");

        // Streams hand their outboxes to a write, or close, in a random order; more is published meanwhile.
        List<TestHub.Stream> order = new ArrayList<>(streams);
        Collections.shuffle(order, random);
        for (int i = 0; i < order.size(); i++) {
            TestHub.Stream s = order.get(i);
            if (i % 4 == 3) {
                s.connection().close(CloseReason.ADMIN);
                model.waiting.remove(s);
            } else {
                drain(s, model);
            }
            assertBooksMatch(model);
            if (i == order.size() / 2) {
                publishRound.run();
                assertBooksMatch(model);
            }
        }
        // Everything still waiting goes out.
        for (TestHub.Stream s : streams) {
            if (model.waiting.containsKey(s)) {
                drain(s, model);
            }
        }
        assertBooksMatch(model);
        assertEquals(0, h.hub.outboxBytes(), "everything was written or closed");
        assertEquals(order.size() / 4, h.listener.closedStreams());
    }

    /** Releases the stream's held write; what waited goes into the next write (held again). */
    private static void drain(TestHub.Stream s, Model model) {
        FakeChannel ch = s.channel();
        List<Event> waiting = model.waiting.get(s);
        int before = ch.writeCount();
        if (waiting.isEmpty()) {
            ch.release();
            ch.settle(); // nothing to write: no next write
            assertEquals(before, ch.writeCount());
        } else {
            ch.releaseAndAwaitNextWrite();
            // A write takes at most 1000 frames and 256 KiB; these outboxes stay under both.
            List<String> written = ch.writes().get(before).stream().map(f -> f.id()).toList();
            assertEquals(ids(waiting), written);
            waiting.clear();
        }
    }

    private void assertBooksMatch(Model model) {
        for (Map.Entry<TestHub.Stream, List<Event>> e : model.waiting.entrySet()) {
            assertEquals(wireBytes(e.getValue()), e.getKey().connection().queuedBytes(), "one stream's bytes");
        }
        assertEquals(model.distinctBytes(), h.hub.outboxBytes(), "distinct events waiting in any outbox");
    }

    @Test
    void anEventDroppedByOneStreamStillCountsWhileAnotherHoldsIt() {
        h = new TestHub(new TestHub.Settings().queueBytes(1000).policy(SlowConsumerPolicy.DROP_OLDEST));
        TestHub.Stream a = h.behind("u1");
        TestHub.Stream b = h.behind("u2");
        Event e1 = sized(1, 600);
        Event e2 = sized(2, 600);
        assertTrue(a.connection().offer(e1));
        assertTrue(b.connection().offer(e1));
        assertEquals(600, h.hub.outboxBytes());

        assertTrue(a.connection().offer(e2)); // a drops e1 to make room; b still holds it
        assertEquals(1, a.connection().eventsDropped());
        assertEquals(1200, h.hub.outboxBytes());

        assertTrue(b.connection().offer(e2)); // now b drops e1 too: nobody holds it
        assertEquals(1, b.connection().eventsDropped());
        assertEquals(600, h.hub.outboxBytes());

        a.connection().close(CloseReason.ADMIN);
        assertEquals(600, h.hub.outboxBytes(), "b still holds e2");
        b.connection().close(CloseReason.ADMIN);
        assertEquals(0, h.hub.outboxBytes());
        assertEquals(2, h.listener.droppedFor(DropReason.CONNECTION_CLOSED), "e2, discarded by each stream");
        assertEquals(2, h.listener.droppedFor(DropReason.SLOW_CONSUMER));
    }

    @Test
    void theBudgetIsOverOnlyWhenMoreThanItsLimitWaits() {
        h = new TestHub(new TestHub.Settings().queueTotalBytes(1000).policy(SlowConsumerPolicy.DROP_OLDEST));
        Connection c = h.behind("u1").connection();
        assertTrue(c.offer(sized(1, 400)));
        assertTrue(c.offer(sized(2, 600)));
        assertEquals(1000, h.hub.outboxBytes());
        assertTrue(c.offer(sized(3, 100)), "exactly the limit waits: not over it yet");
        assertEquals(1100, h.hub.outboxBytes());
        assertFalse(c.offer(sized(4, 100)), "over the limit: a stream that is behind takes no more");
        assertEquals(1100, h.hub.outboxBytes());
        assertEquals(3, c.queued());
        assertEquals(1, c.eventsDropped());
    }

    /**
     * A hub whose budget is 2,500 bytes, one stream behind its client and one keeping up (its loop held
     * busy while events are published, so it is never caught mid-write), two events of about 1,040 bytes
     * each (ids vary by a few) for both, then a third for the stream keeping up only: now the outboxes hold
     * more than the budget. (Were the third for both, whether the stream behind took it would depend on
     * which stream was offered it first: the first to take an event counts it for all.)
     */
    private record OverBudget(TestHub.Stream slow, TestHub.Stream fast, LoopGate fastLoop, List<Event> toSlow,
            List<Event> toFast) {
    }

    private OverBudget overBudget(SlowConsumerPolicy policy) throws InterruptedException {
        h = new TestHub(new TestHub.Settings().queueTotalBytes(2500).policy(policy));
        TestHub.Stream slow = h.behind("u1");
        TestHub.Stream fast = h.keepingUp("u2");
        LoopGate gate = fast.channel().pause();
        List<Event> toSlow = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            var r = h.publish("tick", padding(1000), Target.BROADCAST);
            assertEquals(2, r.delivered(), "within the budget, event " + i + " is queued to both");
            toSlow.add(r.event());
        }
        assertTrue(h.hub.outboxBytes() <= 2500);
        List<Event> toFast = new ArrayList<>(toSlow);
        var r = h.publish("tick", padding(1000), new Target(List.of("u2"), null, null, null));
        assertEquals(1, r.delivered());
        toFast.add(r.event());
        assertEquals(wireBytes(toFast), h.hub.outboxBytes(), "each event once");
        assertTrue(h.hub.outboxBytes() > 2500);
        assertFalse(slow.connection().isClosed());
        assertEquals(wireBytes(toSlow), slow.connection().queuedBytes());
        return new OverBudget(slow, fast, gate, toSlow, toFast);
    }

    @Test
    void overTheBudgetDisconnectCutsAStreamThatIsBehindAndNotOneThatKeepsUp() throws Exception {
        OverBudget o = overBudget(SlowConsumerPolicy.DISCONNECT);
        List<Event> toFast = new ArrayList<>(o.toFast());
        try (LoopGate busy = o.fastLoop()) {
            var r = h.publish("tick", padding(1000), Target.BROADCAST);
            toFast.add(r.event());
            assertEquals(1, r.delivered(), "only the stream keeping up takes it");
            assertTrue(o.slow().connection().isClosed());
            assertEquals(1, h.listener.closedBy(CloseReason.SLOW_CONSUMER));
            assertEquals(1, o.slow().channel().aborts());
            assertEquals(2, h.listener.droppedFor(DropReason.CONNECTION_CLOSED), "what it held is discarded");
            assertFalse(o.fast().connection().isClosed());
            assertEquals(wireBytes(toFast), o.fast().connection().queuedBytes());
            assertEquals(wireBytes(toFast), h.hub.outboxBytes());

            var more = h.publish("tick", padding(1000), Target.BROADCAST);
            toFast.add(more.event());
            assertEquals(1, more.delivered(), "still over the budget: a stream keeping up takes it all the same");
        }
        o.fast().channel().awaitEvent(toFast.get(toFast.size() - 1).idString());
        assertEquals(ids(toFast), o.fast().channel().eventIds());
        assertEquals(0, h.hub.outboxBytes());
        assertEquals(0, h.listener.droppedFor(DropReason.SLOW_CONSUMER));
    }

    @Test
    void overTheBudgetDropOldestRefusesNewEventsToAStreamThatIsBehind() throws Exception {
        OverBudget o = overBudget(SlowConsumerPolicy.DROP_OLDEST);
        Connection slow = o.slow().connection();
        List<Event> toFast = new ArrayList<>(o.toFast());
        long slowBytes = slow.queuedBytes();
        try (LoopGate busy = o.fastLoop()) {
            for (int i = 1; i <= 2; i++) {
                var r = h.publish("tick", padding(1000), Target.BROADCAST);
                toFast.add(r.event());
                assertEquals(1, r.delivered(), "refused by the stream that is behind, so not counted for it");
                assertEquals(i, slow.eventsDropped());
                assertEquals(i, h.listener.droppedFor(DropReason.SLOW_CONSUMER));
            }
            assertFalse(slow.isClosed());
            assertEquals(2, slow.queued(), "its older events stay: dropping them would free nothing the other stream holds");
            assertEquals(slowBytes, slow.queuedBytes());
            // A refused offer, as the publish path sees it.
            assertFalse(slow.offer(sized(1, 100)));
            assertEquals(3, slow.eventsDropped());
            assertEquals(3, h.listener.droppedFor(DropReason.SLOW_CONSUMER));
        }
        o.fast().channel().awaitEvent(toFast.get(toFast.size() - 1).idString());
        assertEquals(ids(toFast), o.fast().channel().eventIds(), "the stream keeping up got everything");
        assertEquals(wireBytes(o.toSlow()), h.hub.outboxBytes(), "only the slow stream's two events wait");

        // Its client takes the first write: the two events it holds go out, and the budget is free again.
        FakeChannel ch = o.slow().channel();
        ch.releaseAndAwaitNextWrite();
        assertEquals(ids(o.toSlow()), ch.eventIds(), "without the events it refused");
        assertEquals(0, h.hub.outboxBytes());
        var after = h.publish("tick", padding(1000), Target.BROADCAST);
        assertEquals(2, after.delivered(), "under the budget, the stream behind takes events again");
        assertEquals(1, slow.queued());
        assertEquals(0, h.listener.closedStreams());
    }
}
