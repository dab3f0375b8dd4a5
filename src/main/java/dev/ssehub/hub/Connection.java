package dev.ssehub.hub;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.function.Consumer;

import dev.ssehub.hub.HubSettings.SlowConsumerPolicy;

/**
 * One stream: its metadata, a bounded outbox, and the write loop that drains the outbox to its
 * {@link SseChannel}.
 *
 * <p>Writes are sequential: a new write starts only when the previous one completed, so a client that
 * stops reading stops the writes instead of piling bytes up in the network stack; what arrives meanwhile
 * waits in the outbox (bounded in frames and bytes, see {@link OutboxLimits}) and goes out in writes of at
 * most {@link #MAX_WRITE_BYTES} when the previous completes, which batches naturally under load. A full
 * outbox applies the slow-consumer policy.
 *
 * <p>A connection that resumes from a Last-Event-ID starts in replay mode: it gets no live events; its
 * write loop reads the replay log forward from a cursor until it reaches the end of the log, and then,
 * under the publish lock, switches to live delivery (see {@link Replay#goLive}). Every event is thus either
 * read from the log or offered live, never both and never neither.
 *
 * <p>Its subscription (topics and type filter) is one immutable value, replaced as a whole by
 * {@link ConnectionRegistry#changeSubscription}, so {@link #accepts} sees one state or the other.
 *
 * <p>A stream may have an end time (its token's expiry): then {@link #finish} drops what is still queued
 * (the client replays it after it reconnects), writes one last frame and closes the stream cleanly once
 * that frame is out, so the client reconnects and resumes from its last event id.
 *
 * <p>Threading: {@link #offer}, {@link #finish} and {@link #close} from any thread; the write loop ({@code drain},
 * {@code written}) only on the channel's thread. Shared state is guarded by {@code this}.
 */
public final class Connection {

    /** The largest burst one publish call can queue at once (a batch publish). */
    public static final int MAX_BURST = 1000;
    /**
     * Most frames and bytes one write takes (at least one frame): a stream's write never holds more than
     * this, however much waits, and the rest goes out in later writes. The frame count stays below the
     * kernel's limit of buffers per {@code writev} (IOV_MAX, 1024).
     */
    public static final int MAX_WRITE_FRAMES = 1000;
    public static final int MAX_WRITE_BYTES = 256 * 1024;

    private final String clientId;
    private final String userId;
    private final String sessionId;
    /** Written under the registry's lock only; see {@link ConnectionRegistry#changeSubscription}. */
    private volatile Subscription subscription;
    private final Instant connectedAt;
    private final String remoteAddress;
    private final String userAgent;
    private final SseChannel channel;
    private final ConnectionHost host;
    private final OutboxLimits limits;
    private final EventId resumeAfter;
    /** What its credentials allow: end time, topics, whose session it is. */
    private final Grant grant;
    /** The task that ends the stream at its end time; cancelled when it closes first. */
    private volatile Future<?> expiry;

    // Guarded by this.
    private final ArrayDeque<Object> outbox = new ArrayDeque<>(4); // grows under load; small when idle
    /** Bytes of the frames in the outbox. */
    private long queuedBytes;
    private boolean scheduled;
    private boolean writing;
    private boolean closed;
    /** Ending: the outbox holds only the last frame, nothing more is taken. */
    private boolean finishing;
    private Frame lastFrame;
    private CloseReason finishReason;

    // Written on the channel's thread; read anywhere (metadata, heartbeats).
    private volatile boolean replaying;
    private volatile long writeStartedNanos;
    private volatile long eventsSent;
    private volatile long eventsDropped;
    private volatile String lastEventId;

    /** One instance each, not a new object per scheduling or write. */
    private final Runnable drainTask = this::drain;
    private final Consumer<Throwable> writeDone = this::written;
    private static final ThreadLocal<List<Frame>> SCRATCH = ThreadLocal.withInitial(ArrayList::new);

    // Channel thread only.
    private int writeEvents;
    private int writeReplayed;
    private Event writeLast;
    private long writeOldestNanos;
    private List<Frame> prelude;
    private long replayCursor;
    /** The write in flight carries the last frame of a finishing stream: close once it is out. */
    private boolean closeAfterWrite;

    /**
     * @param resumeAfter the client's Last-Event-ID, or null: the connection then starts in replay mode,
     *                    and never takes an event at or before it (with a shared backplane, this instance
     *                    may receive such an event after the client saw it on another instance)
     */
    Connection(String clientId, String userId, String sessionId, Subscription subscription, String remoteAddress,
            String userAgent, EventId resumeAfter, SseChannel channel, ConnectionHost host, OutboxLimits limits) {
        this(clientId, userId, sessionId, subscription, remoteAddress, userAgent, resumeAfter, channel, host, limits,
                Grant.UNRESTRICTED);
    }

    /** @param grant what its credentials allow (see {@link Grant}) */
    Connection(String clientId, String userId, String sessionId, Subscription subscription, String remoteAddress,
            String userAgent, EventId resumeAfter, SseChannel channel, ConnectionHost host, OutboxLimits limits,
            Grant grant) {
        this.grant = grant;
        this.clientId = clientId;
        this.userId = userId;
        this.sessionId = sessionId;
        this.subscription = subscription;
        this.connectedAt = Instant.now();
        this.remoteAddress = remoteAddress;
        this.userAgent = userAgent;
        this.resumeAfter = resumeAfter;
        this.lastEventId = resumeAfter == null ? null : resumeAfter.toString();
        this.channel = channel;
        this.host = host;
        this.limits = limits;
        this.replaying = resumeAfter != null;
        // No write loop until start(): events offered before then wait in the outbox, behind the first frame.
        this.scheduled = true;
    }

    /**
     * Whether this connection should get the event: its target and this connection's type filter. A session
     * id the client chose (see {@link Grant#sessionNeedsUser}) counts only when the target names its user too.
     */
    public boolean accepts(Event e) {
        Subscription s = subscription; // one read: both sets from the same state
        Target t = e.target();
        return s.wants(e.type()) && t.matches(clientId, userId, sessionId, s.topics())
                && !(grant.sessionNeedsUser() && !t.sessionIds().isEmpty() && t.userIds().isEmpty())
                && (resumeAfter == null || e.id().isAfter(resumeAfter));
    }

    /** Starts the write loop: the first frames, then (when resuming) the replay from the cursor, then live events. */
    void start(List<Frame> firstFrames, long replayFrom) {
        this.prelude = firstFrames;
        this.replayCursor = replayFrom;
        channel.execute(drainTask);
    }

    /** Called by the hub under the publish lock: from now on events are offered live. */
    synchronized void markLive() {
        replaying = false;
    }

    /**
     * Queues a frame (an {@link Event} or the bytes of a control frame) and schedules a write if none is
     * pending. Returns false when the frame was not queued: closed, replaying, full under the disconnect
     * policy, or refused under drop-oldest because the outboxes of all streams are over their budget.
     */
    boolean offer(Object frame) {
        Event event = frame instanceof Event e ? e : null;
        int length = event != null ? event.wire().length() : ((Frame) frame).length();
        boolean schedule;
        boolean overflow = false;
        boolean refused = false;
        int dropped = 0;
        boolean firstDrop = false;
        synchronized (this) {
            if (closed || replaying || finishing) {
                return false;
            }
            // Full: see OutboxLimits. A stream that is behind takes no more events while all outboxes
            // together hold more than their budget: the slow clients are the ones that pin memory.
            boolean behind = writing;
            int maxFrames = behind ? limits.frames() : limits.frames() + MAX_BURST;
            long maxBytes = behind ? limits.bytes() : limits.bytes() + limits.burstBytes();
            boolean overBudget = behind && event != null && limits.budget().exceeded();
            if (overBudget || outbox.size() >= maxFrames || queuedBytes + length > maxBytes) {
                if (limits.policy() != SlowConsumerPolicy.DROP_OLDEST) {
                    overflow = true;
                } else if (overBudget) {
                    refused = true; // dropping older events would not free memory others share: take no more
                } else {
                    while (!outbox.isEmpty() && (outbox.size() >= maxFrames || queuedBytes + length > maxBytes)) {
                        if (dequeue() != null) {
                            dropped++;
                        }
                    }
                }
            }
            if (!overflow && !refused) {
                outbox.addLast(frame);
                queuedBytes += length;
                if (event != null) {
                    limits.budget().retain(event);
                }
            }
            if (refused) {
                dropped++;
            }
            if (dropped > 0) {
                firstDrop = eventsDropped == 0;
                eventsDropped += dropped;
            }
            schedule = !overflow && !refused && !writing && !scheduled;
            if (schedule) {
                scheduled = true;
            }
        }
        if (dropped > 0) {
            host.dropped(this, dropped, firstDrop);
        }
        if (overflow) {
            close(CloseReason.SLOW_CONSUMER);
            return false;
        }
        if (schedule) {
            channel.execute(drainTask);
        }
        return !refused;
    }

    /** Takes the oldest frame out of the outbox, keeping the byte counts; returns it if it was an event. Holds this. */
    private Event dequeue() {
        Object f = outbox.pollFirst();
        if (f instanceof Event e) {
            queuedBytes -= e.wire().length();
            limits.budget().release(e);
            return e;
        }
        queuedBytes -= ((Frame) f).length();
        return null;
    }

    /**
     * Ends the stream: what is still queued is dropped (it comes after the client's last event id, so the
     * client replays it when it resumes), {@code last} is written, and the stream is closed cleanly with
     * {@code reason} once that write completed. A write already in flight completes first. Does nothing
     * when the stream is closed or already finishing.
     */
    void finish(Frame last, CloseReason reason) {
        int discarded = 0;
        boolean schedule;
        synchronized (this) {
            if (closed || finishing) {
                return;
            }
            finishing = true;
            while (!outbox.isEmpty()) {
                if (dequeue() != null) {
                    discarded++;
                }
            }
            lastFrame = last;
            finishReason = reason;
            outbox.addLast(last);
            queuedBytes += last.length();
            schedule = !writing && !scheduled;
            if (schedule) {
                scheduled = true;
            }
        }
        if (discarded > 0) {
            host.discarded(discarded);
        }
        if (schedule) {
            channel.execute(drainTask);
        }
    }

    /** A heartbeat goes out only to an idle live connection: any other traffic already keeps it alive. */
    boolean offerHeartbeat(Frame frame) {
        synchronized (this) {
            if (closed || replaying || finishing || writing || scheduled || !outbox.isEmpty()) {
                return false;
            }
        }
        return offer(frame);
    }

    /** Nanoseconds the pending write has been waiting, or 0 when none is pending. */
    long pendingWriteNanos(long now) {
        long started = writeStartedNanos;
        return started == 0 ? 0 : now - started;
    }

    private void drain() {
        int events = 0;
        int replayed = 0;
        Event last = null;
        long oldestNanos = 0;
        boolean ending;
        synchronized (this) {
            scheduled = false;
            if (closed || writing) {
                return;
            }
            writing = true;
            ending = finishing;
        }
        // The channel is done with the list when write() returns, so one list per thread serves every stream.
        List<Frame> frames = SCRATCH.get();
        frames.clear();
        if (prelude != null) {
            frames.addAll(prelude);
            prelude = null;
        }
        boolean readAgain = false;
        if (replaying && !ending) {
            Replay replay = host.replay();
            ReplayLog.Chunk chunk = replay.chunk(this, replayCursor);
            while (chunk.events().isEmpty() && chunk.next() > replayCursor && !chunk.fellBehind()) {
                // A scan window of events that were not for us: read on.
                replayCursor = chunk.next();
                chunk = replay.chunk(this, replayCursor);
            }
            if (chunk.fellBehind()) {
                // Events after our cursor were evicted while we replayed (a tiny log under heavy publishing).
                frames.add(replay.truncated(lastEventId, chunk.oldest()));
            }
            replayCursor = chunk.next();
            if (!chunk.events().isEmpty()) {
                for (Event e : chunk.events()) {
                    frames.add(e.wire());
                }
                events = chunk.events().size();
                replayed = events;
                last = chunk.events().get(events - 1);
            } else if (!replay.goLive(this, replayCursor)) {
                // An event arrived between the read and the lock: read again.
                readAgain = true;
            }
        }
        if (!replaying || ending) {
            synchronized (this) {
                // One write's worth at most; the rest goes out in the next write.
                int bytes = 0;
                for (int i = frames.size(); i < MAX_WRITE_FRAMES && !outbox.isEmpty(); i++) {
                    Object f = outbox.peekFirst();
                    Frame wire = f instanceof Event e ? e.wire() : (Frame) f;
                    if (bytes > 0 && bytes + wire.length() > MAX_WRITE_BYTES) {
                        break;
                    }
                    bytes += wire.length();
                    frames.add(wire);
                    if (f == lastFrame) {
                        closeAfterWrite = true;
                    }
                    Event e = dequeue();
                    if (e != null) {
                        if (events++ == 0) {
                            oldestNanos = e.publishedNanos();
                        }
                        last = e;
                    }
                }
            }
        }
        if (frames.isEmpty()) {
            synchronized (this) {
                writing = false;
                readAgain |= !closed && !scheduled && !outbox.isEmpty();
                if (readAgain) {
                    scheduled = true;
                }
            }
            if (readAgain) {
                channel.execute(drainTask);
            }
            return;
        }
        writeEvents = events;
        writeReplayed = replayed;
        writeLast = last;
        writeOldestNanos = oldestNanos;
        writeStartedNanos = System.nanoTime();
        boolean done;
        try {
            done = channel.write(frames, writeDone);
        } catch (RuntimeException | Error e) {
            // The channel's contract is to report failures through writeDone; whatever escapes it must
            // still end this write, or the stream would stay open and silent with a write never finished.
            frames.clear();
            written(e);
            return;
        }
        frames.clear();
        if (done) {
            written(null);
        }
    }

    /** Completion of the write started by {@link #drain}; its batch is described by the write* fields. */
    private void written(Throwable failure) {
        writeStartedNanos = 0;
        int events = writeEvents;
        Event last = writeLast;
        writeLast = null;
        if (failure != null) {
            if (isClosed()) {
                return; // we closed it (e.g. slow consumer): the pending write failing is expected
            }
            DeliveryError kind = channel.classify(failure);
            host.writeFailed(this, kind, failure);
            close(kind.serverSide() ? CloseReason.WRITE_ERROR : CloseReason.CLIENT);
            return;
        }
        if (events > 0) {
            eventsSent += events;
            lastEventId = last.idString();
            host.written(events, writeReplayed, writeOldestNanos);
        }
        if (closeAfterWrite) {
            closeAfterWrite = false;
            CloseReason reason;
            synchronized (this) {
                reason = finishReason;
            }
            close(reason);
            return;
        }
        boolean more;
        synchronized (this) {
            writing = false;
            more = !closed && !scheduled && (replaying || !outbox.isEmpty());
            if (more) {
                scheduled = true;
            }
        }
        if (more) {
            // Not a direct call: a write can complete inside write(), and a long replay must not recurse.
            channel.execute(drainTask);
        }
    }

    /** Closes once, whatever closed it; later calls do nothing. */
    public void close(CloseReason reason) {
        int discarded = 0;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            while (!outbox.isEmpty()) {
                if (dequeue() != null) {
                    discarded++;
                }
            }
        }
        Future<?> timer = expiry;
        if (timer != null) {
            timer.cancel(false);
        }
        host.closed(this, reason, discarded);
        if (reason == CloseReason.SLOW_CONSUMER || reason == CloseReason.TIMEOUT || reason == CloseReason.WRITE_ERROR) {
            // Its socket is not draining (or its state is unknown after a failed write): a clean end would
            // wait behind the unread bytes, or need the very resources that just failed.
            channel.abort();
        } else if (reason == CloseReason.SHUTDOWN) {
            // The instance is going away: a keep-alive reconnection must not come back to it.
            channel.closeConnection();
        } else {
            channel.close();
        }
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    public synchronized int queued() {
        return outbox.size();
    }

    /** Bytes of the frames waiting in the outbox. */
    public synchronized long queuedBytes() {
        return queuedBytes;
    }

    /** When the stream must end (its token's expiry, or its maximum lifetime), or null. */
    public Instant endsAt() {
        return grant.endsAt();
    }

    /** Whether this stream may subscribe to the topic (its token's {@code sse_topics}; any without that claim). */
    public boolean mayTopic(String topic) {
        return grant.mayTopic(topic);
    }

    /** Called by the hub once it scheduled the end of this stream; cancelled if the stream closes first. */
    void expiry(Future<?> task) {
        this.expiry = task;
        if (isClosed()) {
            task.cancel(false);
        }
    }

    /** Called by the registry under its lock, so indexes and subscription change together. */
    void subscription(Subscription s) {
        this.subscription = s;
    }

    public Subscription subscription() {
        return subscription;
    }

    public String clientId() {
        return clientId;
    }

    public String userId() {
        return userId;
    }

    public String sessionId() {
        return sessionId;
    }

    public Set<String> topics() {
        return subscription.topics();
    }

    public Set<String> types() {
        return subscription.types();
    }

    public Instant connectedAt() {
        return connectedAt;
    }

    public String remoteAddress() {
        return remoteAddress;
    }

    public String userAgent() {
        return userAgent;
    }

    public String lastEventId() {
        return lastEventId;
    }

    public long eventsSent() {
        return eventsSent;
    }

    public long eventsDropped() {
        return eventsDropped;
    }

    public boolean replaying() {
        return replaying;
    }
}
