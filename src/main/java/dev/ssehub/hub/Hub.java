package dev.ssehub.hub;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The domain's entry point: opens streams, publishes, runs the heartbeat tick, and keeps the books when
 * a stream ends. The work is done by {@link Publishing} (lock, idempotency, dispatch), {@link Replay}
 * (Last-Event-ID resume and the switch to live delivery) and {@link ControlFrames} (the frames the
 * service sends itself); each {@link Connection} writes its own stream.
 *
 * <p>The hub sees no HTTP and imports none of the service's other packages: it owns the ports it needs,
 * {@link Backplane} (how events reach every instance), {@link SseChannel} (the transport under a stream)
 * and {@link HubListener} (what it reports), and the outer packages implement them.
 */
@Singleton
public class Hub implements ConnectionHost {

    private static final Logger LOG = Logger.getLogger(Hub.class);
    /** A server-side write failure of one kind is logged at WARN at most once per this period. */
    private static final long WARN_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final HubSettings settings;
    private final ConnectionRegistry registry;
    private final Backplane backplane;
    private final HubListener listener;
    private final ControlFrames frames;
    private final Publishing publishing;
    private final Replay replay;
    private final ReplayLog log;
    private final OutboxLimits limits;
    private final Instant startedAt = Instant.now();
    private final String instanceId = UUID.randomUUID().toString();
    /** Per {@link DeliveryError}: when it was last logged at WARN (nanoTime), and failures since. */
    private final AtomicLongArray lastWarn = new AtomicLongArray(DeliveryError.values().length);
    private final AtomicLongArray unlogged = new AtomicLongArray(DeliveryError.values().length);
    /**
     * Ends streams at their end time, one task per stream that has one (cancelled, and removed from the
     * queue, when the stream closes first). Created with the first such stream.
     */
    private volatile ScheduledThreadPoolExecutor expiries;

    @Inject
    public Hub(HubSettings settings, ConnectionRegistry registry, Backplane backplane, HubListener listener,
            ObjectMapper mapper) {
        this.settings = settings;
        this.registry = registry;
        this.backplane = backplane;
        this.listener = listener;
        this.frames = new ControlFrames(mapper, settings);
        this.log = new ReplayLog(settings.replaySize(), settings.replayMaxAge().toMillis(), settings.replayMaxBytes(),
                new EventId(startedAt.toEpochMilli(), 0));
        this.limits = new OutboxLimits(settings.queueSize(), settings.queueBytes(), settings.maxBatchBytes(),
                settings.slowConsumer(), new OutboxBudget(settings.queueTotalBytes()));
        this.publishing = new Publishing(log, backplane, registry, listener);
        this.replay = new Replay(log, publishing.lock(), frames);
        for (int i = 0; i < DeliveryError.values().length; i++) {
            lastWarn.set(i, System.nanoTime() - WARN_EVERY_NANOS);
        }
    }

    /**
     * Connects the hub to its backplane: the history it holds is loaded into the replay log, then events
     * arrive. Called once at start-up (by the lifecycle layer), before streams are served.
     */
    public void start() {
        backplane.start(publishing);
    }

    /** Disconnects from the backplane and stops the timers of stream end times (shutdown). */
    public void stop() {
        backplane.stop();
        stopTimers();
    }

    /** Stops the timers of stream end times. */
    void stopTimers() {
        ScheduledThreadPoolExecutor e = expiries;
        if (e != null) {
            e.shutdownNow();
        }
    }

    /**
     * What a client asked for when it opened its stream, validated and authorized by the HTTP layer
     * ({@code topics} are within the grant already).
     */
    public record StreamRequest(String userId, String sessionId, Set<String> topics, Set<String> types,
            EventId lastEventId, String remoteAddress, String userAgent, Grant grant) {

        /** A stream with no restriction (authentication off). */
        public StreamRequest(String userId, String sessionId, Set<String> topics, Set<String> types, EventId lastEventId,
                String remoteAddress, String userAgent) {
            this(userId, sessionId, topics, types, lastEventId, remoteAddress, userAgent, Grant.UNRESTRICTED);
        }
    }

    /** The stream could not be opened: a limit was reached. */
    public static final class RejectedException extends Exception {
        private final ConnectionRegistry.Rejection reason;

        RejectedException(ConnectionRegistry.Rejection reason) {
            super(reason.label(), null, false, false);
            this.reason = reason;
        }

        public ConnectionRegistry.Rejection reason() {
            return reason;
        }
    }


    /**
     * Registers a new stream and starts it: the first frame, the replay after {@code lastEventId} if
     * given, then live events. If anything fails after the stream was registered, it is closed again
     * before the failure propagates, so it cannot hold a {@code sse.max-clients} slot.
     */
    public Connection open(StreamRequest req, SseChannel channel) throws RejectedException {
        boolean resume = req.lastEventId() != null;
        Connection c = new Connection(UUID.randomUUID().toString(), req.userId(), req.sessionId(),
                new Subscription(req.topics(), req.types()), req.remoteAddress(), req.userAgent(),
                req.lastEventId(), channel, this, limits, req.grant());
        ConnectionRegistry.Rejection rejection = registry.register(c, settings.maxClients(), settings.maxPerUser());
        if (rejection != null) {
            listener.rejected(rejection);
            LOG.debugf("Refused stream (%s) from %s, user %s", rejection.label(), req.remoteAddress(), req.userId());
            throw new RejectedException(rejection);
        }
        try {
            listener.opened();
            List<Frame> prelude = new ArrayList<>(2);
            prelude.add(frames.established(c));
            long from = 0;
            if (resume) {
                // Registered in replay mode above, so no live event reaches it before the cursor is set:
                // everything after lastEventId is read from the log, including what is published right now.
                ReplayLog.Start start = replay.startAfter(req.lastEventId());
                from = start.position();
                if (start.truncated()) {
                    prelude.add(replay.truncated(req.lastEventId().toString(), start.oldest()));
                }
            }
            c.start(prelude, from);
            if (req.grant().endsAt() != null) {
                scheduleEnd(c, req.grant().endsAt());
            }
        } catch (RuntimeException | Error e) {
            c.close(CloseReason.ERROR);
            throw e;
        }
        LOG.debugf("Stream %s opened from %s (user %s, session %s, topics %s, types %s, resume after %s)",
                c.clientId(), req.remoteAddress(), req.userId(), req.sessionId(), c.topics(), c.types(),
                req.lastEventId());
        return c;
    }

    /**
     * At {@code endsAt} the stream gets {@code token_expired} and is closed cleanly (see {@link Connection#finish}),
     * to the millisecond of the timer, not at a heartbeat tick. An end time already past ends it at once.
     */
    private void scheduleEnd(Connection c, Instant endsAt) {
        Frame last = frames.tokenExpired(endsAt);
        long delay = Math.max(0, endsAt.toEpochMilli() - System.currentTimeMillis());
        c.expiry(timers().schedule(() -> c.finish(last, CloseReason.EXPIRED), delay, TimeUnit.MILLISECONDS));
    }

    private ScheduledThreadPoolExecutor timers() {
        ScheduledThreadPoolExecutor e = expiries;
        if (e == null) {
            synchronized (this) {
                e = expiries;
                if (e == null) {
                    e = new ScheduledThreadPoolExecutor(1, r -> {
                        Thread t = new Thread(r, "sse-stream-expiry");
                        t.setDaemon(true);
                        return t;
                    });
                    // A stream that closes before its end time takes its task out of the queue with it.
                    e.setRemoveOnCancelPolicy(true);
                    expiries = e;
                }
            }
        }
        return e;
    }

    /** Streams waiting for their end time (for leak checks). */
    public int scheduledEnds() {
        ScheduledThreadPoolExecutor e = expiries;
        return e == null ? 0 : e.getQueue().size();
    }

    /**
     * Publishes events, in this order, through the backplane; completes with each one's id and the local
     * streams it was queued to, or exceptionally with {@link Backplane.UnavailableException}. A repeated
     * idempotency key within the backplane's window publishes nothing and answers the earlier event.
     */
    public CompletionStage<List<Backplane.Published>> publish(List<Event.Draft> drafts) {
        return publishing.publish(drafts);
    }

    /**
     * Changes a stream's topics and type filter in one step (see {@link ConnectionRegistry#changeSubscription}):
     * {@code remove} is applied, then {@code add}; {@code types}, unless null, replaces the type filter.
     * Returns the subscription now in force, or null when the stream has closed.
     *
     * @throws IllegalArgumentException when the stream would hold more than {@link Subscription#MAX_ENTRIES} topics
     */
    public Subscription changeSubscriptions(Connection c, Collection<String> add, Collection<String> remove,
            Set<String> types) {
        return registry.changeSubscription(c, s -> s.change(add, remove, types));
    }

    /**
     * One heartbeat tick: a heartbeat to every idle live stream, closes streams whose write has been
     * pending past {@code sse.client-timeout}, and ages the replay log. Returns the heartbeats queued.
     */
    public int heartbeat() {
        long now = System.nanoTime();
        long timeout = settings.clientTimeout().toNanos();
        Frame frame = frames.heartbeat(System.currentTimeMillis());
        int sent = 0;
        for (Connection c : registry.all()) {
            if (c.pendingWriteNanos(now) > timeout) {
                c.close(CloseReason.TIMEOUT);
            } else if (c.offerHeartbeat(frame)) {
                sent++;
            }
        }
        listener.heartbeats(sent);
        // Events age out here when nothing is published; their idempotency keys go with them.
        publishing.expire(System.currentTimeMillis());
        return sent;
    }

    /** Closes every stream, e.g. for shutdown. */
    public int closeAll(CloseReason reason) {
        int n = 0;
        for (Connection c : registry.all()) {
            c.close(reason);
            n++;
        }
        return n;
    }

    /** Development only: closes every stream, clears the replay log and the backplane's history and keys. */
    public CompletionStage<Integer> reset() {
        int closed = closeAll(CloseReason.RESET);
        publishing.clear();
        return backplane.reset().thenApply(done -> closed);
    }

    public ConnectionRegistry registry() {
        return registry;
    }

    /** Events in the replay log. */
    public int replayBufferSize() {
        return log.size();
    }

    /** Wire bytes of the events in the replay log. */
    public long replayBytes() {
        return log.bytes();
    }

    /** Bytes of distinct events waiting in stream outboxes. */
    public long outboxBytes() {
        return limits.budget().bytes();
    }

    public long uptimeSeconds() {
        return TimeUnit.MILLISECONDS.toSeconds(System.currentTimeMillis() - startedAt.toEpochMilli());
    }

    /** Random per process: tells instances apart in stats and logs. */
    public String instanceId() {
        return instanceId;
    }

    // ConnectionHost: what connections report.

    @Override
    public Replay replay() {
        return replay;
    }

    @Override
    public void written(int events, int replayed, long oldestPublishedNanos) {
        listener.delivered(events, replayed, oldestPublishedNanos);
    }

    @Override
    public void writeFailed(Connection c, DeliveryError kind, Throwable failure) {
        listener.deliveryError(kind);
        if (!kind.serverSide()) {
            LOG.debugf("Stream %s: client gone during a write (%s)", c.clientId(), failure);
            return;
        }
        // A fault of the service must show, but a storm of them must not flood the log.
        int k = kind.ordinal();
        long now = System.nanoTime();
        long last = lastWarn.get(k);
        if (now - last >= WARN_EVERY_NANOS && lastWarn.compareAndSet(k, last, now)) {
            long more = unlogged.getAndSet(k, 0);
            LOG.warnf("Stream %s (user %s, %s): write failed (%s): %s%s", c.clientId(), c.userId(), c.remoteAddress(),
                    kind.label(), failure, more == 0 ? "" : "; " + more + " more such failures since the last report");
            LOG.debug("Write failure", failure);
        } else {
            unlogged.incrementAndGet(k);
        }
    }

    @Override
    public void dropped(Connection c, int events, boolean first) {
        listener.dropped(DropReason.SLOW_CONSUMER, events);
        if (first) {
            LOG.warnf("Stream %s (user %s, %s) is not keeping up: its outbox is full (sse.queue-size %d frames, "
                    + "sse.queue-bytes %d) or all outboxes hold more than sse.queue-total-bytes (%d); dropping "
                    + "events (sse.slow-consumer=drop-oldest); logged once per stream", c.clientId(), c.userId(),
                    c.remoteAddress(), limits.frames(), limits.bytes(), limits.budget().limit());
        }
    }

    @Override
    public void discarded(int events) {
        listener.dropped(DropReason.CONNECTION_CLOSED, events);
    }

    @Override
    public void closed(Connection c, CloseReason reason, int discardedEvents) {
        if (!registry.remove(c)) {
            return;
        }
        listener.closed(reason);
        if (discardedEvents > 0) {
            listener.dropped(DropReason.CONNECTION_CLOSED, discardedEvents);
        }
        switch (reason) {
            case SLOW_CONSUMER -> LOG.warnf("Stream %s (user %s, %s) disconnected: its outbox is full (sse.queue-size "
                    + "%d frames, sse.queue-bytes %d) or it is behind while all outboxes hold more than "
                    + "sse.queue-total-bytes (%d) (sse.slow-consumer=disconnect); it can resume from its last event id",
                    c.clientId(), c.userId(), c.remoteAddress(), limits.frames(), limits.bytes(), limits.budget().limit());
            case TIMEOUT -> LOG.warnf("Stream %s (user %s, %s) closed: a write was pending longer than %s",
                    c.clientId(), c.userId(), c.remoteAddress(), settings.clientTimeout());
            case EXPIRED -> LOG.debugf("Stream %s (user %s) ended at its end time %s (token expiry or "
                    + "sse.auth.max-stream-lifetime) after %d events", c.clientId(), c.userId(), c.endsAt(), c.eventsSent());
            default -> LOG.debugf("Stream %s closed (%s) after %d events", c.clientId(), reason.label(),
                    c.eventsSent());
        }
    }
}
