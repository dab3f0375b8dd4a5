package dev.ssehub.transport;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jboss.logging.Logger;

import io.netty.channel.EventLoop;
import io.netty.channel.SingleThreadEventLoop;
import io.netty.util.internal.PlatformDependent;

/**
 * Runs the write tasks of every stream owned by one event loop in batches, with one event-loop task per
 * batch instead of one per stream and event.
 *
 * <p>A task submitted from the loop itself (a publish handled on this loop) runs after the loop's current
 * iteration, so every event published in that iteration (pipelined publishes, a batch) leaves in one
 * write per stream, like an epoll server that writes once per wake-up. A task submitted from another
 * thread wakes the loop once; whatever arrives while the loop is busy writing joins the same batch.
 *
 * <p>A run is bounded: after {@link #SLICE_NANOS} it yields and continues in a later loop iteration, so
 * that publishers on other threads feeding it without pause cannot keep the loop away from its sockets
 * (new connections, requests, health probes). Tasks run in the order they were submitted, so a stream
 * whose write completed at once and that has more to write queues behind the streams already waiting.
 */
final class LoopBatcher implements Runnable {

    private static final Logger LOG = Logger.getLogger(LoopBatcher.class);
    private static final ConcurrentHashMap<EventLoop, LoopBatcher> BY_LOOP = new ConcurrentHashMap<>();
    /** Longest a run keeps the loop before it lets the loop poll its sockets again. */
    static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** Tasks between two looks at the clock. */
    private static final int CLOCK_EVERY = 64;

    private final EventLoop loop;
    /** Tasks from other threads. */
    private final Queue<Runnable> tasks = PlatformDependent.newMpscQueue();
    /** Tasks from the loop itself: no atomic operation per task. Loop thread only. */
    private final ArrayDeque<Runnable> own = new ArrayDeque<>();
    /** True from the moment a run is scheduled until a run finds both queues empty. */
    private final AtomicBoolean scheduled = new AtomicBoolean();

    private LoopBatcher(EventLoop loop) {
        this.loop = loop;
    }

    static LoopBatcher of(EventLoop loop) {
        return BY_LOOP.computeIfAbsent(loop, LoopBatcher::new);
    }

    void execute(Runnable task) {
        if (loop.inEventLoop()) {
            own.addLast(task);
            if (!scheduled.get() && scheduled.compareAndSet(false, true)) {
                if (loop instanceof SingleThreadEventLoop l) {
                    l.executeAfterEventLoopIteration(this);
                } else {
                    loop.execute(this);
                }
            }
        } else {
            tasks.offer(task);
            if (!scheduled.get() && scheduled.compareAndSet(false, true)) {
                loop.execute(this);
            }
        }
    }

    @Override
    public void run() {
        long deadline = System.nanoTime() + SLICE_NANOS;
        int ran = 0;
        while (true) {
            // What other threads submitted until now joins the loop's queue before the next task runs, so a
            // task that this task submits (a stream whose write completed at once and that has more to write)
            // queues behind the streams already waiting instead of going ahead of them all.
            for (Runnable t; (t = tasks.poll()) != null;) {
                own.addLast(t);
            }
            Runnable task = own.pollFirst();
            if (task == null) {
                scheduled.set(false);
                // A task offered while `scheduled` was still set did not schedule a run: take it now.
                if ((own.isEmpty() && tasks.isEmpty()) || !scheduled.compareAndSet(false, true)) {
                    return;
                }
                continue;
            }
            try {
                task.run();
            } catch (Throwable t) {
                LOG.error("Stream write task failed", t);
            }
            if (++ran % CLOCK_EVERY == 0 && System.nanoTime() - deadline > 0) {
                // Out of time: `scheduled` stays set, and the rest runs in a later iteration. A scheduled
                // task (not execute(), whose task queue the loop may drain before polling its sockets again,
                // nor a tail task, which runs in this same iteration) is taken after the next poll.
                loop.schedule(this, 0, TimeUnit.NANOSECONDS);
                return;
            }
        }
    }
}
