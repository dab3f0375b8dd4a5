package dev.ssehub.backplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.hub.Backplane;
import dev.ssehub.hub.Backplane.Published;
import dev.ssehub.hub.Event;
import dev.ssehub.hub.EventId;
import dev.ssehub.hub.Target;

/**
 * The {@link Backplane} port's contract, run against every implementation: a subclass says how to make an
 * instance, whether instances of one test share a cluster, and whether the backplane has a server that can
 * go away. The tests drive the port directly (no Quarkus, no HTTP) with a recording {@link Backplane.Receiver}.
 *
 * <p>No assertion depends on how fast anything runs: waits are generous upper bounds, and where the port
 * allows two outcomes depending on timing (a lagging instance answers a publish before it delivered the
 * event), both are accepted and checked for what each must mean.
 */
abstract class BackplaneContractTest {

    /** Upper bound of every wait; a healthy run takes milliseconds. */
    static final Duration WAIT = Duration.ofSeconds(30);
    /** What the recording receiver answers for every delivered event: the "local streams" it was queued to. */
    static final int STREAMS = 3;
    static final Duration LONG_WINDOW = Duration.ofHours(1);

    private final List<Backplane> instances = new ArrayList<>();

    /** A new, not yet started instance of the backplane; instances of one test share its cluster if {@link #clustered}. */
    protected abstract Backplane newInstance(int historySize, Duration keyWindow);

    /** Whether instances made by one test see each other's events (memory: no, each is its own process). */
    protected abstract boolean clustered();

    /**
     * Stops the backplane's server so that it cannot accept events; false, doing nothing, when there is no
     * such server (the memory backplane is part of the process and cannot be unavailable on its own).
     */
    protected abstract boolean stopServer() throws Exception;

    /** Starts the server {@link #stopServer} stopped, with its data or, if {@code keepData} is false, empty. */
    protected abstract void startServer(boolean keepData) throws Exception;

    /** Stops every instance this test started (idempotent; subclasses call it before closing what instances use). */
    @AfterEach
    protected void stopInstances() {
        for (Backplane b : instances) {
            b.stop();
        }
        instances.clear();
    }

    /** Makes an instance and starts it with a new recorder. */
    Recorder started(int historySize, Duration keyWindow) {
        Backplane b = newInstance(historySize, keyWindow);
        instances.add(b);
        Recorder r = new Recorder(b);
        b.start(r);
        return r;
    }

    Recorder started() {
        return started(100, LONG_WINDOW);
    }

    // ------------------------------------------------------------------ history and start

    @Test
    void startRestartsTheHistoryThenHandsOverWhatItHoldsThenNewEvents() {
        Recorder a = started(3, LONG_WINDOW);
        List<Published> before = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            before.add(publish(a, draft("before" + i)).get(0));
        }
        a.awaitDelivered(5);

        Recorder b = started(3, LONG_WINDOW);
        List<Recorder.Call> atStart = b.calls();
        assertFalse(atStart.isEmpty(), "start hands over at least the restart");
        assertEquals("restart", atStart.get(0).kind(), "the first call says where the history starts: " + atStart);
        EventId historyStart = atStart.get(0).id();
        List<EventId> history = b.ids("history");
        if (clustered()) {
            assertEquals(ids(before).subList(2, 5), history, "the newest sse.replay.size events, oldest first");
            // What restart promises: from historyStart on, the history is complete. An instance that holds
            // only part of what the cluster kept must say so, or a client resuming from an event it does not
            // hold is not told that it missed the ones in between.
            for (Published p : before) {
                if (p.id().compareTo(historyStart) >= 0) {
                    assertTrue(history.contains(p.id()), "history starts at " + historyStart + " but " + p.id()
                            + ", published before, is not in it: " + history);
                }
            }
        } else {
            assertEquals(List.of(), history, "a new instance of this backplane is a new cluster: no history");
        }
        assertTrue(b.backplane.isUp(), b.backplane.status());

        List<Published> after = new ArrayList<>();
        after.add(publish(b, draft("after0")).get(0));
        after.add(publish(clustered() ? a : b, draft("after1")).get(0));
        b.awaitDelivered(2);
        List<Recorder.Call> calls = b.calls();
        assertEquals(atStart, calls.subList(0, atStart.size()), "what start handed over comes first, and once");
        assertEquals(ids(after), b.ids("deliver"), "then the new events, live");
        for (Published p : after) {
            assertTrue(p.id().compareTo(historyStart) >= 0, "a new event " + p.id() + " is in the history from "
                    + historyStart);
        }
    }

    @Test
    void anInstanceThatKeepsNoHistoryHandsOverNothingOldAndStartsItsHistoryAfterTheNewestEvent() {
        Recorder a = started(0, LONG_WINDOW);
        List<Published> before = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            before.add(publish(a, draft("old" + i)).get(0));
        }
        a.awaitDelivered(3);
        Recorder b = started(0, LONG_WINDOW);
        Published now = publish(clustered() ? a : b, draft("new")).get(0);
        b.awaitDelivered(1);
        assertEquals(List.of(now.id()), b.ids("deliver"), "only events published after it started, live");
        assertEquals(List.of(), b.ids("history"));
        if (clustered()) {
            EventId historyStart = b.calls().get(0).id();
            assertTrue(historyStart.isAfter(before.get(2).id()), "nothing before " + historyStart + " is held: "
                    + "a client resuming from " + before.get(2).id() + " may have missed events");
        }
    }

    // ------------------------------------------------------------------ order and ids

    @Test
    void everyInstanceGetsEveryEventOnceInOneOrderOfStrictlyIncreasingIds() throws Exception {
        List<Recorder> all = clustered() ? List.of(started(), started()) : List.of(started());
        int threads = 4;
        int batches = 25;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        ConcurrentLinkedQueue<List<Published>> answers = new ConcurrentLinkedQueue<>();
        AtomicInteger seq = new AtomicInteger();
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Recorder via = all.get(t % all.size());
                running.add(pool.submit(() -> {
                    for (int i = 0; i < batches; i++) {
                        List<Event.Draft> batch = new ArrayList<>();
                        for (int j = 0, n = 1 + i % 4; j < n; j++) {
                            batch.add(draft("e" + seq.incrementAndGet()));
                        }
                        List<Published> answer = publish(via, batch);
                        assertEquals(batch.size(), answer.size(), "one answer per draft");
                        for (Published p : answer) {
                            // Delivered here before the answer (the local count), or answered after the port's
                            // short wait with nothing delivered here yet: never a count for an event not delivered.
                            assertTrue(p.delivered() == 0 || (p.delivered() == STREAMS && via.holds(p.id())),
                                    "answer " + p + ", delivered here: " + via.holds(p.id()));
                            assertFalse(p.duplicate());
                        }
                        answers.add(answer);
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        Set<EventId> published = new HashSet<>();
        for (List<Published> batch : answers) {
            for (int i = 1; i < batch.size(); i++) {
                assertTrue(batch.get(i).id().isAfter(batch.get(i - 1).id()), "a batch keeps its order: " + batch);
            }
            for (Published p : batch) {
                assertTrue(published.add(p.id()), "one id per event: " + p.id() + " twice");
            }
        }
        assertEquals(seq.get(), published.size());
        List<EventId> first = null;
        for (Recorder r : all) {
            r.awaitDelivered(published.size());
            List<EventId> got = r.ids("deliver");
            assertEquals(published.size(), got.size(), "each event once");
            assertEquals(published, new HashSet<>(got), "every accepted event, nothing else");
            for (int i = 1; i < got.size(); i++) {
                assertTrue(got.get(i).isAfter(got.get(i - 1)), "ids strictly increase in delivery order: "
                        + got.get(i - 1) + " then " + got.get(i));
            }
            if (first == null) {
                first = got;
            } else {
                assertEquals(first, got, "every instance: the same events in the same order");
            }
        }
    }

    @Test
    void theAnswerCountsTheStreamsThisInstanceQueuedTheEventTo() {
        Recorder a = started();
        for (int i = 0; i < 20; i++) {
            Published p = publish(a, draft("n" + i)).get(0);
            // The port waits (a short while) for this instance to deliver the event; an idle instance on a
            // healthy backplane does so well within it.
            assertEquals(STREAMS, p.delivered(), "answered after this instance delivered it: " + p);
            assertTrue(a.holds(p.id()));
        }
    }

    // ------------------------------------------------------------------ idempotency

    @Test
    void aRepeatedKeyWithinTheWindowPublishesNothingAndAnswersTheEarlierEvent() {
        Recorder a = started();
        Recorder b = clustered() ? started() : a;
        Published first = publish(a, draft("t1", "1", "order-7")).get(0);
        assertFalse(first.duplicate());
        Published again = publish(b, draft("t2", "2", "order-7")).get(0);
        assertTrue(again.duplicate(), "the same key again: " + again);
        assertEquals(first.id(), again.id(), "the earlier event's id");
        assertEquals("t1", again.type(), "the earlier event's type");
        assertEquals(first.timestamp(), again.timestamp(), "the earlier event's time");
        assertEquals(0, again.delivered(), "a duplicate is queued nowhere");

        List<Published> batch = publish(b, List.of(draft("t", "3", "k2"), draft("t", "4", "k2"), draft("t", "5", null)));
        assertFalse(batch.get(0).duplicate());
        assertTrue(batch.get(1).duplicate(), "a key repeated within one batch: " + batch);
        assertEquals(batch.get(0).id(), batch.get(1).id());
        assertFalse(batch.get(2).duplicate(), "no key, no idempotency");

        List<EventId> expected = List.of(first.id(), batch.get(0).id(), batch.get(2).id());
        for (Recorder r : clustered() ? List.of(a, b) : List.of(a)) {
            r.awaitDelivered(3);
            assertEquals(expected, r.ids("deliver"), "one event per key");
            assertEquals(List.of("1", "3", "5"), r.delivered().stream().map(BackplaneContractTest::data).toList(),
                    "the first draft's data; the repeat's is never delivered");
        }
    }

    @Test
    void aKeyCountsOnlyWithinItsWindow() throws Exception {
        Duration window = Duration.ofMillis(300);
        Recorder a = started(100, window);
        Published first = publish(a, draft("t", "1", "k")).get(0);
        // Sleeping longer than the window can only make the key older: this cannot flake under load.
        Thread.sleep(window.toMillis() * 3);
        Published later = publish(a, draft("t", "2", "k")).get(0);
        assertFalse(later.duplicate(), "the key aged out of its window: a new event");
        assertTrue(later.id().isAfter(first.id()));
        a.awaitDelivered(2);
    }

    @Test
    void resetForgetsTheKeys() {
        Recorder a = started();
        Recorder b = clustered() ? started() : null;
        Published first = publish(a, draft("t", "1", "k")).get(0);
        if (b != null) {
            b.awaitDelivered(1);
        }
        a.backplane.reset().toCompletableFuture().join();
        Published again = publish(a, draft("t", "2", "k")).get(0);
        assertFalse(again.duplicate(), "a reset forgets idempotency keys: " + again);
        assertNotEquals(first.id(), again.id());
        if (b != null) {
            // Another instance learns that the history restarted before it gets the first event after it.
            b.awaitDelivered(2);
            List<Recorder.Call> calls = b.calls();
            int restart = -1;
            int after = -1;
            for (int i = 0; i < calls.size(); i++) {
                if (i > 0 && calls.get(i).kind().equals("restart") && restart < 0) {
                    restart = i;
                }
                if (again.id().equals(calls.get(i).id()) && calls.get(i).kind().equals("deliver")) {
                    after = i;
                }
            }
            assertTrue(restart > 0 && restart < after, "restart, then the new event: " + calls);
        }
    }

    // ------------------------------------------------------------------ outages and loss

    /** For a backplane with a server of its own (the memory one is always up): its test class runs it. */
    void aRefusedPublishIsNeverDeliveredAndDeliveryResumesFromTheCursorAfterAnOutage() throws Exception {
        Recorder a = started();
        Recorder b = clustered() ? started() : a;
        Published before = publish(a, draft("t", "\"before\"", null)).get(0);
        b.awaitDelivered(1);
        int restartsBefore = a.ids("restart").size() + b.ids("restart").size();
        assertTrue(stopServer(), "a backplane with a server of its own");
        Set<String> refused = new HashSet<>();
        try {
            for (int i = 0; i < 5; i++) {
                String data = "\"refused" + i + "\"";
                Throwable t = publishFailure(a, draft("t", data, null));
                assertInstanceOf(Backplane.UnavailableException.class, t, "a publish the backplane cannot accept");
                refused.add(data);
            }
            await(() -> !a.backplane.isUp() && !b.backplane.isUp(), "both instances report the backplane down");
            assertFalse(a.backplane.status().isBlank());
        } finally {
            startServer(true);
        }
        // Publish at once: the other instance may or may not have reconnected yet; either way it must
        // continue from its cursor, so it gets every event accepted from now on and nothing refused.
        List<EventId> accepted = new ArrayList<>();
        for (int i = 0; accepted.size() < 5; i++) {
            String data = "\"after" + i + "\"";
            try {
                accepted.add(publish(a, draft("t", data, null)).get(0).id());
            } catch (CompletionException e) {
                assertInstanceOf(Backplane.UnavailableException.class, e.getCause());
                refused.add(data); // the client is still reconnecting: refused, so never delivered either
                assertTrue(i < 1000, "the backplane never came back");
                Thread.sleep(20);
            }
        }
        await(() -> a.backplane.isUp() && b.backplane.isUp(), "both instances report the backplane up again");
        for (Recorder r : clustered() ? List.of(a, b) : List.of(a)) {
            r.awaitDelivered(1 + accepted.size());
            List<EventId> expected = new ArrayList<>(List.of(before.id()));
            expected.addAll(accepted);
            assertEquals(expected, r.ids("deliver"), "every accepted event once, in order, across the outage");
            for (Event e : r.delivered()) {
                assertFalse(refused.contains(data(e)), "a refused event was delivered: " + data(e));
            }
        }
        assertEquals(restartsBefore, a.ids("restart").size() + b.ids("restart").size(),
                "the history did not restart: nothing was lost");
        if (clustered()) {
            assertTrue(b.backplane.reconnects() > 0, "the tail reconnected");
        }
    }

    /**
     * For a backplane with a server of its own: its test class runs it. (The memory backplane's history is the
     * process's own: it is lost only with the process, and a new process starts with a restart, the start test.)
     */
    void aBackplaneThatLostItsDataRestartsTheHistoryBeforeTheNextEvent() throws Exception {
        Recorder a = started();
        Recorder b = clustered() ? started() : a;
        Published before = publish(a, draft("t", "1", "k")).get(0);
        b.awaitDelivered(1);
        assertTrue(stopServer(), "a backplane with a server of its own");
        startServer(false);
        Published after = null;
        for (int i = 0; after == null; i++) {
            try {
                after = publish(a, draft("t", "2", "k")).get(0);
            } catch (CompletionException e) {
                assertInstanceOf(Backplane.UnavailableException.class, e.getCause());
                assertTrue(i < 1000, "the backplane never came back");
                Thread.sleep(20);
            }
        }
        assertFalse(after.duplicate(), "the keys went with the data");
        assertTrue(after.id().isAfter(before.id()));
        for (Recorder r : clustered() ? List.of(a, b) : List.of(a)) {
            r.awaitDelivered(2);
            List<Recorder.Call> calls = r.calls();
            int restartAt = -1;
            for (int i = 1; i < calls.size(); i++) {
                if (calls.get(i).kind().equals("restart")) {
                    restartAt = i;
                }
            }
            assertTrue(restartAt > 0, "the history restarted: " + calls);
            Recorder.Call restart = calls.get(restartAt);
            assertTrue(restart.id().isAfter(before.id()), "a client that saw " + before.id() + " is told it may "
                    + "have missed events: history restarts at " + restart.id());
            assertTrue(after.id().compareTo(restart.id()) >= 0, "the new event is in the new history");
            assertEquals(after.id(), calls.get(calls.size() - 1).id(), "then the new event: " + calls);
            assertEquals(List.of(before.id(), after.id()), r.ids("deliver"));
        }
    }

    // ------------------------------------------------------------------ helpers

    static Event.Draft draft(String data) {
        return draft("t", "\"" + data + "\"", null);
    }

    static Event.Draft draft(String type, String dataJson, String key) {
        return new Event.Draft(type, dataJson, Target.BROADCAST, key);
    }

    static List<Published> publish(Recorder via, Event.Draft draft) {
        return publish(via, List.of(draft));
    }

    static List<Published> publish(Recorder via, List<Event.Draft> drafts) {
        return via.backplane.publish(drafts).toCompletableFuture().orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS)
                .join();
    }

    /** The failure of a publish that must fail. */
    static Throwable publishFailure(Recorder via, Event.Draft draft) {
        try {
            List<Published> p = publish(via, draft);
            return fail("accepted while the backplane is down: " + p);
        } catch (CompletionException e) {
            return e.getCause();
        }
    }

    static List<EventId> ids(List<Published> ps) {
        return ps.stream().map(Published::id).toList();
    }

    /** The data of an event, from its wire bytes ({@code data: <json>}). */
    static String data(Event e) {
        String wire = new String(e.wire().bytes(), StandardCharsets.UTF_8);
        int at = wire.indexOf("data: ");
        return wire.substring(at + 6, wire.indexOf('\n', at));
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + WAIT + ": " + what);
            }
            Thread.sleep(20);
        }
    }

    /** A receiver that records every call, in order, and answers {@link #STREAMS} for every delivery. */
    static final class Recorder implements Backplane.Receiver {

        record Call(String kind, EventId id, Event event) {
        }

        final Backplane backplane;
        private final List<Call> calls = new ArrayList<>(); // guarded by this

        Recorder(Backplane backplane) {
            this.backplane = backplane;
        }

        @Override
        public synchronized int deliver(Event event) {
            calls.add(new Call("deliver", event.id(), event));
            notifyAll();
            return STREAMS;
        }

        @Override
        public synchronized void history(Event event) {
            calls.add(new Call("history", event.id(), event));
        }

        @Override
        public synchronized void restart(EventId historyStart) {
            calls.add(new Call("restart", historyStart, null));
        }

        synchronized List<Call> calls() {
            return List.copyOf(calls);
        }

        synchronized List<EventId> ids(String kind) {
            return calls.stream().filter(c -> c.kind().equals(kind)).map(Call::id).toList();
        }

        synchronized List<Event> delivered() {
            return calls.stream().filter(c -> c.kind().equals("deliver")).map(Call::event).toList();
        }

        synchronized boolean holds(EventId id) {
            return calls.stream().anyMatch(c -> c.kind().equals("deliver") && c.id().equals(id));
        }

        /** Waits until at least {@code n} events were delivered. */
        synchronized void awaitDelivered(int n) {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (ids("deliver").size() < n) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    fail("delivered " + ids("deliver").size() + " of " + n + " within " + WAIT + ": " + calls);
                }
                try {
                    wait(Math.min(left, 100));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    fail("interrupted");
                }
            }
        }
    }
}
