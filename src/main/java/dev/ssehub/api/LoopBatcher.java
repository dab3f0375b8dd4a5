package dev.ssehub.api;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
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
 */
final class LoopBatcher implements Runnable {

    private static final Logger LOG = Logger.getLogger(LoopBatcher.class);
    private static final ConcurrentHashMap<EventLoop, LoopBatcher> BY_LOOP = new ConcurrentHashMap<>();

    private final EventLoop loop;
    /** Tasks from other threads. */
    private final Queue<Runnable> tasks = PlatformDependent.newMpscQueue();
    /** Tasks from the loop itself: no atomic operation per task. Loop thread only. */
    private final ArrayDeque<Runnable> own = new ArrayDeque<>();
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
        // Cleared before polling: a task offered from now on either is polled below or schedules a new run.
        scheduled.set(false);
        Runnable task;
        while ((task = own.pollFirst()) != null || (task = tasks.poll()) != null) {
            try {
                task.run();
            } catch (Throwable t) {
                LOG.error("Stream write task failed", t);
            }
        }
    }
}
