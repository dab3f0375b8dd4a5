package dev.ssehub.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Test;

import dev.ssehub.hub.FakeChannel.Completion;

/**
 * The switch from Last-Event-ID replay to live delivery while another thread publishes without pause:
 * whatever the timing, the resumed stream gets every event for it published after its last event id,
 * once each, in id order — no gap and no duplicate at the switch. Many randomized runs: how much history
 * there is, where the client resumes, what it subscribed to and which events are for it, how fast the
 * publisher goes, when the stream opens, and whether each write completes at once or later.
 *
 * <p>A failure names its seed; {@code -Drace.seed=<seed> -Drace.runs=1} replays that run.
 */
class ConnectionResumeRaceTest {

    private static final int RUNS = Integer.getInteger("race.runs", 200);
    /** Upper bound on the events one run publishes, so a run is bounded even when replay cannot catch up. */
    private static final int MAX_EVENTS = 5000;
    private static final List<String> TYPES = List.of("a", "b");
    private static final List<String> TOPICS = List.of("t1", "t2", "t3");

    @Test
    void noGapAndNoDuplicateAtTheSwitchFromReplayToLive() throws Exception {
        long seed0 = Long.getLong("race.seed", System.nanoTime());
        int switchedWhilePublishing = 0;
        for (int run = 0; run < RUNS; run++) {
            long seed = seed0 + run;
            try {
                if (runOnce(new Random(seed))) {
                    switchedWhilePublishing++;
                }
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("run " + run + " (-Drace.seed=" + seed + " -Drace.runs=1): " + e.getMessage(), e);
            }
        }
        // The point of the test is the switch under fire: make sure that is what most runs exercised.
        assertTrue(switchedWhilePublishing >= RUNS / 2,
                "only " + switchedWhilePublishing + " of " + RUNS + " runs switched to live while events were published");
    }

    /** One run; true when the stream went live while the publisher was still publishing. */
    private boolean runOnce(Random rnd) throws Exception {
        TestHub.Settings settings = new TestHub.Settings().replaySize(MAX_EVENTS + 1000);
        try (TestHub h = new TestHub(settings)) {
            Set<String> topics = Set.of(TOPICS.get(rnd.nextInt(TOPICS.size())));
            Set<String> types = rnd.nextBoolean() ? Set.of() : Set.of("a");
            List<Event> published = new ArrayList<>();
            Random publisherRnd = new Random(rnd.nextLong());
            int history = 1 + rnd.nextInt(700);
            for (int i = 0; i < history; i++) {
                published.add(publishRandom(h, publisherRnd));
            }
            EventId resumeAfter = published.get(rnd.nextInt(history)).id();

            // The publisher: pauses now and then, at a pace chosen per run.
            int pauseEvery = 1 + rnd.nextInt(32);
            long pauseNanos = rnd.nextInt(3) == 0 ? 0 : 1_000 + rnd.nextInt(50_000);
            AtomicBoolean stop = new AtomicBoolean();
            List<Event> live = new ArrayList<>();
            Thread publisher = new Thread(() -> {
                int n = 0;
                while (!stop.get() && history + n < MAX_EVENTS) {
                    Event e = publishRandom(h, publisherRnd);
                    synchronized (live) {
                        live.add(e);
                    }
                    if (++n % pauseEvery == 0) {
                        if (pauseNanos == 0) {
                            Thread.yield();
                        } else {
                            LockSupport.parkNanos(pauseNanos);
                        }
                    }
                }
            }, "race-publisher");
            publisher.start();

            LockSupport.parkNanos(rnd.nextInt(300_000));
            FakeChannel channel = new FakeChannel(Completion.RANDOM, new Random(rnd.nextLong()));
            TestHub.Stream s = h.open(channel, new Hub.StreamRequest("u", null, topics, types, resumeAfter, "127.0.0.1",
                    "race"));
            FakeChannel.eventually("stream live", () -> !s.connection().replaying());
            int atSwitch = size(live);
            boolean underFire = atSwitch > 0 && publisher.isAlive();
            // Let the publisher go on past the switch, then stop it.
            int after = 1 + rnd.nextInt(200);
            FakeChannel.eventually("events after the switch",
                    () -> size(live) >= atSwitch + after || !publisher.isAlive());
            stop.set(true);
            publisher.join();
            published.addAll(live);

            // Last, one event the stream surely takes: once it arrived, everything before it has too.
            Event last = h.publish("a", "{\"last\":true}", Target.BROADCAST).event();
            published.add(last);
            channel.awaitEvent(last.idString());

            List<String> expected = new ArrayList<>();
            for (Event e : published) {
                if (e.id().isAfter(resumeAfter) && s.connection().accepts(e)) {
                    expected.add(e.idString());
                }
            }
            List<String> got = channel.eventIds();
            String context = "resumed after " + resumeAfter + " with " + history + " events of history";
            assertStrictlyIncreasing(got, context);
            assertSameIds(expected, got, context);
            assertFalse(channel.frames().stream().anyMatch(f -> "replay_truncated".equals(f.event())));
            assertFalse(s.connection().isClosed());
            return underFire;
        }
    }

    /** An event of a random type, for everyone or for one random topic. */
    private static Event publishRandom(TestHub h, Random rnd) {
        Target target = rnd.nextInt(3) == 0 ? Target.BROADCAST
                : new Target(null, null, null, List.of(TOPICS.get(rnd.nextInt(TOPICS.size()))));
        return h.publish(TYPES.get(rnd.nextInt(TYPES.size())), "{}", target).event();
    }

    private static int size(List<Event> l) {
        synchronized (l) {
            return l.size();
        }
    }

    private static void assertStrictlyIncreasing(List<String> ids, String context) {
        for (int i = 1; i < ids.size(); i++) {
            EventId prev = EventId.parse(ids.get(i - 1));
            EventId cur = EventId.parse(ids.get(i));
            if (!cur.isAfter(prev)) {
                throw new AssertionError(context + ": event " + i + " (" + cur + ") does not follow " + prev
                        + (cur.equals(prev) ? ": a duplicate" : ": out of order (a duplicate of an earlier event?)"));
            }
        }
    }

    /** The two lists are equal; if not, says where they part (a gap, or an event not for this stream). */
    private static void assertSameIds(List<String> expected, List<String> got, String context) {
        int n = Math.min(expected.size(), got.size());
        for (int i = 0; i < n; i++) {
            if (!expected.get(i).equals(got.get(i))) {
                throw new AssertionError(context + ": at event " + i + " expected " + expected.get(i) + " but got "
                        + got.get(i) + (got.contains(expected.get(i)) ? "" : " (a gap: " + expected.get(i) + " never came)")
                        + "; " + expected.size() + " expected, " + got.size() + " received");
            }
        }
        assertEquals(expected.size(), got.size(), context + ": events received");
    }
}
