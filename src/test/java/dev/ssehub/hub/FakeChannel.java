package dev.ssehub.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import dev.ssehub.support.Api;
import dev.ssehub.support.LoopGate;
import dev.ssehub.support.SseClient;

/**
 * A transport for one stream without a network, for unit tests of {@link Connection} and {@link Hub}.
 *
 * <p>Its "event loop" is a single-threaded executor of its own, which runs {@link #execute} tasks in
 * submission order as the real event loop does. Every write's frames are copied and kept in order, and
 * parsed back by the same parser as the HTTP tests' {@link SseClient}, so tests assert on exact frames.
 * A write completes as {@link Completion} says: at once, later on the loop, at random one of those two,
 * or only when the test {@link #release releases} it (a client that stopped reading).
 *
 * <p>It checks the {@link SseChannel} contract as it goes: writes only on its loop, one write in flight,
 * every frame one complete event-stream frame. Breaches are collected, not thrown (a throw on the loop
 * would vanish in the executor); {@link #assertContractKept} reports them.
 */
final class FakeChannel implements SseChannel {

    /** How a write completes. */
    enum Completion {
        /** Inside {@code write}, which returns true. */
        SYNC,
        /** Later: {@code done} runs as a task on the loop, after the tasks already queued there. */
        ASYNC,
        /** Seeded coin flip between SYNC and ASYNC, per write. */
        RANDOM,
        /** Not until the test calls {@link #release} or {@link #failPending}, or the channel is aborted or closed. */
        HOLD
    }

    /** How long tests wait for a condition: far beyond what any of them needs, also on a loaded machine. */
    static final Duration WAIT = Duration.ofSeconds(20);
    private static final Duration POLL = Duration.ofMillis(1);

    private final ExecutorService loop;
    private volatile Thread loopThread;
    private final Random random;

    private final Object lock = new Object();
    // Guarded by lock.
    private Completion completion;
    private Throwable failNext;
    private final List<List<byte[]>> writes = new ArrayList<>();
    private boolean inFlight;
    private Consumer<Throwable> held;
    private Throwable heldFailure;
    private int closes;
    private int aborts;
    private final List<String> breaches = new ArrayList<>();

    FakeChannel(Completion completion) {
        this(completion, new Random(0));
    }

    FakeChannel(Completion completion, Random random) {
        this.completion = completion;
        this.random = random;
        this.loop = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fake-sse-loop");
            t.setDaemon(true);
            loopThread = t;
            return t;
        });
    }

    // SseChannel

    @Override
    public void execute(Runnable task) {
        loop.execute(task);
    }

    @Override
    public boolean write(List<Frame> frames, Consumer<Throwable> done) {
        List<byte[]> copy = new ArrayList<>(frames.size());
        for (Frame f : frames) {
            copy.add(f.bytes().clone());
        }
        Completion how;
        Throwable failure;
        synchronized (lock) {
            if (Thread.currentThread() != loopThread) {
                breaches.add("write on " + Thread.currentThread().getName() + ", not on the stream's loop");
            }
            if (inFlight) {
                breaches.add("write #" + (writes.size() + 1) + " started while the previous one was pending");
            }
            if (frames.isEmpty()) {
                breaches.add("write #" + (writes.size() + 1) + " has no frames");
            }
            for (byte[] b : copy) {
                String text = new String(b, StandardCharsets.UTF_8);
                if (!text.endsWith("\n\n") || text.indexOf("\n\n") != text.length() - 2) {
                    breaches.add("not one complete frame: " + text);
                }
            }
            inFlight = true;
            writes.add(copy);
            how = completion == Completion.RANDOM ? (random.nextBoolean() ? Completion.SYNC : Completion.ASYNC)
                    : completion;
            failure = failNext;
            failNext = null;
            if (how == Completion.HOLD) {
                held = done;
                heldFailure = failure;
            }
            lock.notifyAll();
        }
        switch (how) {
            case SYNC -> {
                if (failure == null) {
                    finished();
                    return true;
                }
                // A failure is reported through done, also when it is known at once (the contract: never throw).
                finished();
                done.accept(failure);
                return false;
            }
            case ASYNC -> {
                loop.execute(() -> {
                    finished();
                    done.accept(failure);
                });
                return false;
            }
            default -> {
                return false;
            }
        }
    }

    @Override
    public DeliveryError classify(Throwable failure) {
        return failure instanceof IOException ? DeliveryError.CLIENT_GONE : DeliveryError.UNEXPECTED;
    }

    @Override
    public void close() {
        synchronized (lock) {
            closes++;
        }
        failHeld(new IOException("stream closed"));
    }

    @Override
    public void abort() {
        synchronized (lock) {
            aborts++;
        }
        // As a socket reset does: the write the client never took fails.
        failHeld(new IOException("connection reset"));
    }

    // Test controls

    /** How the writes started from now on complete. */
    void completion(Completion c) {
        synchronized (lock) {
            completion = c;
        }
    }

    /** The next write fails with this (at once, later, or on release, as the completion mode says). */
    void failNext(Throwable failure) {
        synchronized (lock) {
            failNext = failure;
        }
    }

    /** Completes the held write on the loop, successfully unless {@link #failNext} set a failure for it. */
    void release() {
        Consumer<Throwable> done;
        Throwable failure;
        synchronized (lock) {
            done = held;
            failure = heldFailure;
            held = null;
            heldFailure = null;
        }
        if (done == null) {
            throw new IllegalStateException("no write is held");
        }
        loop.execute(() -> {
            finished();
            done.accept(failure);
        });
    }

    /**
     * Completes the held write and waits until the next write started (held again if the completion mode
     * is still HOLD): the stream had something waiting, which is now handed to that write.
     */
    void releaseAndAwaitNextWrite() {
        int before = writeCount();
        release();
        eventually("write #" + (before + 1), () -> writeCount() == before + 1);
    }

    /** Fails the held write, if any, on the loop. */
    void failPending(Throwable failure) {
        failHeld(failure);
    }

    private void failHeld(Throwable failure) {
        Consumer<Throwable> done;
        synchronized (lock) {
            done = held;
            held = null;
            heldFailure = null;
        }
        if (done != null) {
            loop.execute(() -> {
                finished();
                done.accept(failure);
            });
        }
    }

    private void finished() {
        synchronized (lock) {
            inFlight = false;
            lock.notifyAll();
        }
    }

    /**
     * Blocks the loop until the returned handle is closed: tasks and completions queue up behind it, as
     * they do behind a busy event loop. Returns once the loop is blocked.
     */
    LoopGate pause() throws InterruptedException {
        return LoopGate.hold(loop, WAIT);
    }

    /** Waits until the loop has run every task queued on it so far. */
    void settle() {
        try {
            pause().close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    // What was written

    /** Every write so far, each as the frames it carried, parsed back. */
    List<List<SseClient.Frame>> writes() {
        List<List<byte[]>> copy;
        synchronized (lock) {
            copy = new ArrayList<>(writes);
        }
        List<List<SseClient.Frame>> out = new ArrayList<>(copy.size());
        for (List<byte[]> w : copy) {
            out.add(parse(w));
        }
        return out;
    }

    /** Every frame written so far, in order. */
    List<SseClient.Frame> frames() {
        List<byte[]> all = new ArrayList<>();
        synchronized (lock) {
            writes.forEach(all::addAll);
        }
        return parse(all);
    }

    /** The ids of the events written so far, in order (control frames have none). */
    List<String> eventIds() {
        List<String> ids = new ArrayList<>();
        for (SseClient.Frame f : frames()) {
            if (f.id() != null) {
                ids.add(f.id());
            }
        }
        return ids;
    }

    /** The bytes of every frame written so far, as text. */
    String text() {
        StringBuilder sb = new StringBuilder();
        synchronized (lock) {
            for (List<byte[]> w : writes) {
                for (byte[] b : w) {
                    sb.append(new String(b, StandardCharsets.UTF_8));
                }
            }
        }
        return sb.toString();
    }

    int writeCount() {
        synchronized (lock) {
            return writes.size();
        }
    }

    boolean holding() {
        synchronized (lock) {
            return held != null;
        }
    }

    /** Whether a write has started and not completed yet. */
    boolean inFlight() {
        synchronized (lock) {
            return inFlight;
        }
    }

    int closes() {
        synchronized (lock) {
            return closes;
        }
    }

    int aborts() {
        synchronized (lock) {
            return aborts;
        }
    }

    /** Waits until a write is held (the stream's write loop is then blocked on its client). */
    void awaitHeld() {
        eventually("a held write", this::holding);
    }

    /** Waits until this many frames were written. */
    void awaitFrames(int n) {
        eventually(n + " frames written (have " + frames().size() + ")", () -> frames().size() >= n);
    }

    /** Waits until an event with this id was written. */
    void awaitEvent(String id) {
        eventually("event " + id + " written", () -> eventIds().contains(id));
    }

    /** Waits until the condition holds; fails after {@link #WAIT}. */
    static void eventually(String what, BooleanSupplier condition) {
        Api.eventually(WAIT, POLL, what, condition);
    }

    void assertContractKept() {
        synchronized (lock) {
            if (!breaches.isEmpty()) {
                throw new AssertionError("SseChannel contract broken: " + breaches);
            }
        }
    }

    /** Stops the loop (tests call this when done; {@link #close} is the stream's end, which the hub calls). */
    void shutdown() {
        loop.shutdownNow();
        try {
            loop.awaitTermination(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static List<SseClient.Frame> parse(List<byte[]> frames) {
        SseClient.Parser parser = new SseClient.Parser();
        List<SseClient.Frame> out = new ArrayList<>(frames.size());
        for (byte[] b : frames) {
            String text = new String(b, StandardCharsets.UTF_8);
            int from = 0;
            int lf;
            while ((lf = text.indexOf('\n', from)) >= 0) {
                SseClient.Frame f = parser.line(text.substring(from, lf), 0);
                if (f != null) {
                    out.add(f);
                }
                from = lf + 1;
            }
            if (from != text.length() || parser.midFrame()) {
                throw new AssertionError("frame does not end with a blank line: " + text);
            }
        }
        return out;
    }
}
