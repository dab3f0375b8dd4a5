package dev.ssehub.support;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Holds a single-threaded executor (an event loop, a fake one) busy until closed, so that tests can let
 * tasks queue up behind it as they do behind a busy loop.
 */
public final class LoopGate implements AutoCloseable {

    private final CountDownLatch gate = new CountDownLatch(1);

    private LoopGate() {
    }

    /** Blocks the executor with a task of its own; returns once that task runs, that is once the loop is held. */
    public static LoopGate hold(Executor loop, Duration timeout) throws InterruptedException {
        LoopGate g = new LoopGate();
        CountDownLatch held = new CountDownLatch(1);
        loop.execute(() -> {
            held.countDown();
            try {
                g.gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        if (!held.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the loop was not free to hold within " + timeout);
        }
        return g;
    }

    /** Lets the loop go on. */
    @Override
    public void close() {
        gate.countDown();
    }
}
