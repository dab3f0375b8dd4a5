package dev.ssehub.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.LoopGate;
import io.netty.channel.EventLoop;
import io.netty.channel.nio.NioEventLoopGroup;

/**
 * {@link LoopBatcher} on a real Netty event loop: tasks run on the loop in submission order, a stream that
 * resubmits itself goes behind the streams already waiting (round robin, so one busy stream cannot starve
 * the others), a flooded batcher still lets the loop run its own tasks, no task is lost when the batcher
 * goes idle, and tasks submitted from the loop wait for the end of the loop's current iteration.
 */
class LoopBatcherTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private NioEventLoopGroup group;
    private EventLoop loop;
    private LoopBatcher batcher;
    /** What ran, in order; written on the loop only, read after {@link #ranSoFar}. */
    private final List<String> ran = new ArrayList<>();
    private final AtomicInteger offLoop = new AtomicInteger();

    @BeforeEach
    void start() {
        group = new NioEventLoopGroup(1);
        loop = group.next();
        batcher = LoopBatcher.of(loop);
    }

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        assertEquals(0, offLoop.get(), "tasks that ran off the loop");
    }

    private static void eventually(String what, BooleanSupplier condition) {
        Api.eventually(WAIT, Duration.ofMillis(1), what, condition);
    }

    /** Records that {@code name} ran (on the loop). */
    private void record(String name) {
        if (!loop.inEventLoop()) {
            offLoop.incrementAndGet();
        }
        ran.add(name);
    }

    /** A copy of {@link #ran}, taken on the loop. */
    private List<String> ranSoFar() throws Exception {
        return loop.submit(() -> new ArrayList<>(ran)).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Test
    void tasksFromAnotherThreadRunOnTheLoopInSubmissionOrder() throws Exception {
        int streams = 100;
        int rounds = 20;
        CountDownLatch done = new CountDownLatch(streams * rounds);
        List<String> submitted = new ArrayList<>();
        LoopGate gate = LoopGate.hold(loop, WAIT);
        for (int r = 0; r < rounds; r++) {
            if (r == rounds / 2) {
                gate.close(); // the first half waited as one batch; the rest arrives while the loop runs
            }
            for (int s = 0; s < streams; s++) {
                String name = "s" + s + "#" + r;
                submitted.add(name);
                batcher.execute(() -> {
                    record(name);
                    done.countDown();
                });
            }
        }
        assertTrue(done.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        assertEquals(submitted, ranSoFar());
    }

    @Test
    void aStreamThatResubmitsItselfGoesBehindTheStreamsAlreadyWaiting() throws Exception {
        // As a stream does whose write completed at once and that has more to write (a long replay):
        // it schedules its next write from the loop, and must not go ahead of the streams already waiting.
        int streams = 10;
        int rounds = 4;
        CountDownLatch done = new CountDownLatch(streams * rounds);
        LoopGate gate = LoopGate.hold(loop, WAIT);
        for (int s = 0; s < streams; s++) {
            String stream = "s" + s;
            batcher.execute(new Runnable() {
                int round;

                @Override
                public void run() {
                    record(stream + "#" + round);
                    done.countDown();
                    if (++round < rounds) {
                        batcher.execute(this);
                    }
                }
            });
        }
        gate.close();
        assertTrue(done.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        List<String> expected = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            for (int s = 0; s < streams; s++) {
                expected.add("s" + s + "#" + r);
            }
        }
        assertEquals(expected, ranSoFar(), "round robin");
    }

    @Test
    void aFloodedBatcherYieldsSoTheLoopRunsItsOwnTasks() throws Exception {
        // One stream with endless work, resubmitting itself from the loop: without the time slice, the
        // batcher's run would never return and the loop would never poll its sockets or run other tasks.
        long taskNanos = TimeUnit.MICROSECONDS.toNanos(20);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong floodRuns = new AtomicLong();
        AtomicLong probeSubmittedAt = new AtomicLong(-1);
        AtomicLong runsBeforeProbe = new AtomicLong(-1);
        CountDownLatch probeRan = new CountDownLatch(1);
        batcher.execute(new Runnable() {
            @Override
            public void run() {
                long n = floodRuns.incrementAndGet();
                if (n == 5_000) {
                    // A task for the loop itself (as a handler on this loop would submit one), counted from here.
                    probeSubmittedAt.set(n);
                    loop.execute(() -> {
                        runsBeforeProbe.set(floodRuns.get() - probeSubmittedAt.get());
                        probeRan.countDown();
                    });
                }
                long end = System.nanoTime() + taskNanos;
                while (System.nanoTime() < end) {
                    Thread.onSpinWait();
                }
                if (!stop.get()) {
                    batcher.execute(this);
                }
            }
        });
        try {
            assertTrue(probeRan.await(WAIT.toMillis(), TimeUnit.MILLISECONDS),
                    "a task of the loop's own ran while the batcher was flooded");
            // Each flood task takes at least 20 µs, so the slice of 1 ms, looked at every 64 tasks, is over at
            // the first look: a run is 64 tasks, whatever the load, and the probe waits for the rest of one.
            assertTrue(runsBeforeProbe.get() < 64, "the probe waited " + runsBeforeProbe.get()
                    + " flood tasks; a run should yield after " + LoopBatcher.SLICE_NANOS + " ns");

            // The same from another thread (a request arriving on the socket): it gets in too.
            CountDownLatch outsideRan = new CountDownLatch(1);
            loop.execute(outsideRan::countDown);
            assertTrue(outsideRan.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));

            long now = floodRuns.get();
            eventually("the flood goes on after the yields", () -> floodRuns.get() > now + 1_000);
        } finally {
            stop.set(true);
        }
    }

    @Test
    void noTaskIsLostWhenTheBatcherGoesIdleAsATaskArrives() {
        // Ping-pong: each task, as it runs, lets the submitter send the next one, which therefore often
        // arrives just as the batcher finds its queues empty and goes idle: the window a lost wake-up needs.
        int rounds = 20_000;
        AtomicInteger ran = new AtomicInteger();
        Runnable task = ran::incrementAndGet;
        long deadline = System.nanoTime() + WAIT.toNanos();
        for (int i = 1; i <= rounds; i++) {
            batcher.execute(task);
            while (ran.get() < i) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("task " + i + " of " + rounds + " never ran: a lost wake-up");
                }
                Thread.onSpinWait();
            }
        }
    }

    @Test
    void noTaskIsLostWhileSeveralThreadsSubmit() throws Exception {
        int threads = 2;
        int each = 20_000;
        AtomicInteger count = new AtomicInteger();
        Runnable task = count::incrementAndGet;
        List<Thread> submitters = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                for (int i = 0; i < each; i++) {
                    batcher.execute(task);
                    if (i % 97 == 0) {
                        Thread.yield(); // let the batcher run dry now and then
                    }
                }
            });
            submitters.add(th);
            th.start();
        }
        for (Thread th : submitters) {
            th.join();
        }
        eventually(threads * each + " tasks run (have " + count.get() + ")", () -> count.get() == threads * each);
    }

    @Test
    void tasksSubmittedFromTheLoopWaitForTheEndOfItsIteration() throws Exception {
        // Two publishes handled in one loop iteration: the streams' writes go after both, so each stream
        // writes both events at once.
        CountDownLatch done = new CountDownLatch(2);
        loop.execute(() -> {
            record("publish 1");
            batcher.execute(() -> {
                record("write a");
                done.countDown();
            });
            // Another request read in the same iteration, queued after the first write was.
            loop.execute(() -> {
                record("publish 2");
                batcher.execute(() -> {
                    record("write b");
                    done.countDown();
                });
            });
            record("publish 1 returns");
        });
        assertTrue(done.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        assertEquals(List.of("publish 1", "publish 1 returns", "publish 2", "write a", "write b"), ranSoFar());
    }
}
