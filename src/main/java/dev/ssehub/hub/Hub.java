package dev.ssehub.hub;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ssehub.backplane.Backplane;
import dev.ssehub.config.SseConfig;
import dev.ssehub.observability.SseMetrics;
import dev.ssehub.observability.SseMetrics.DropReason;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The domain core: opens connections, publishes events through the {@link Backplane}, delivers each
 * event to the connections it matches, keeps the replay log, and sends heartbeats.
 *
 * <p>Ordering: events are appended to the log and offered to connections under one publish lock, so
 * every connection sees events in id order, and a resuming connection can switch from log replay to
 * live delivery without a gap or a duplicate ({@link #goLive}).
 */
@ApplicationScoped
public class Hub {

    private static final Logger LOG = Logger.getLogger(Hub.class);

    @Inject
    SseConfig config;
    @Inject
    ConnectionRegistry registry;
    @Inject
    SseMetrics metrics;
    @Inject
    Backplane backplane;
    @Inject
    ObjectMapper mapper;

    private final Object publishLock = new Object();
    private final Instant startedAt = Instant.now();
    private final String instanceId = UUID.randomUUID().toString();
    private ReplayLog log;
    /** Idempotency key → the event it produced, while that event is in the replay log. Guarded by publishLock. */
    private final Map<String, Event> byKey = new LinkedHashMap<>();

    @PostConstruct
    void init() {
        log = new ReplayLog(config.replay().size(), config.replay().maxAge().toMillis(),
                new EventId(startedAt.toEpochMilli(), 0));
        backplane.start(this::dispatch);
        metrics.backplaneUp(backplane::isUp);
    }

    /** What a client asked for when it opened its stream, validated by the HTTP layer. */
    public record StreamRequest(String userId, String sessionId, Set<String> topics, Set<String> types,
            EventId lastEventId, String remoteAddress, String userAgent) {
    }

    /** The connection could not be opened: a limit was reached. */
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

    /** The data of the first frame of every stream. */
    @RegisterForReflection
    public record Established(String clientId, String userId, String sessionId, List<String> topics,
            List<String> types, long heartbeatIntervalMs, String serverTime) {
    }

    @RegisterForReflection
    public record Truncated(String requested, String oldest) {
    }

    @RegisterForReflection
    public record Heartbeat(long ts) {
    }

    /**
     * Registers a new connection and starts its stream: the first frame, the replay after
     * {@code lastEventId} if given, then live events.
     */
    public Connection open(StreamRequest req, SseChannel channel) throws RejectedException {
        boolean resume = req.lastEventId() != null;
        Connection c = new Connection(UUID.randomUUID().toString(), req.userId(), req.sessionId(), req.topics(),
                req.types(), req.remoteAddress(), req.userAgent(), resume ? req.lastEventId().toString() : null,
                channel, this, config.queueSize(), config.slowConsumer(), resume);
        ConnectionRegistry.Rejection rejection = registry.register(c, config.maxClients(),
                config.maxConnectionsPerUser());
        if (rejection != null) {
            metrics.rejected(rejection);
            LOG.debugf("Refused stream (%s) from %s, user %s", rejection.label(), req.remoteAddress(), req.userId());
            throw new RejectedException(rejection);
        }
        metrics.opened();
        List<Frame> prelude = new ArrayList<>(2);
        prelude.add(new Frame(WireFormat.established(config.retry().toMillis(), json(new Established(c.clientId(), c.userId(),
                c.sessionId(), sorted(c.topics()), sorted(c.types()), config.heartbeat().interval().toMillis(),
                Instant.now().toString())))));
        long from = 0;
        if (resume) {
            // Registered in replay mode above, so no live event reaches it before the cursor is set:
            // everything after lastEventId is read from the log, including what is published right now.
            ReplayLog.Start start = log.startAfter(req.lastEventId());
            from = start.position();
            if (start.truncated()) {
                prelude.add(truncatedFrame(req.lastEventId().toString(), start.oldest()));
            }
        }
        c.start(prelude, from);
        LOG.debugf("Stream %s opened from %s (user %s, session %s, topics %s, types %s, resume after %s)",
                c.clientId(), req.remoteAddress(), req.userId(), req.sessionId(), c.topics(), c.types(),
                req.lastEventId());
        return c;
    }

    /** Publishes one event; a repeated idempotency key within the replay window publishes nothing. */
    public PublishResult publish(Event.Draft draft) {
        synchronized (publishLock) {
            if (draft.idempotencyKey() != null) {
                Event earlier = byKey.get(draft.idempotencyKey());
                if (earlier != null) {
                    return new PublishResult(earlier, 0, true);
                }
            }
            Backplane.Published p = backplane.publish(draft);
            return new PublishResult(p.event(), p.delivered(), false);
        }
    }

    public record PublishResult(Event event, int delivered, boolean duplicate) {
    }

    /** The backplane's receiver: log the event, then queue it to every matching live connection. */
    int dispatch(Event e) {
        synchronized (publishLock) {
            log.append(e, e.timestamp().toEpochMilli());
            if (e.idempotencyKey() != null) {
                byKey.put(e.idempotencyKey(), e);
            }
            forgetExpiredKeys();
            metrics.published();
            int delivered = 0;
            for (Connection c : registry.candidates(e.target())) {
                if (c.accepts(e) && c.offer(e)) {
                    delivered++;
                }
            }
            return delivered;
        }
    }

    private void forgetExpiredKeys() {
        Iterator<Event> it = byKey.values().iterator();
        while (it.hasNext()) {
            if (log.holds(it.next().position)) {
                break;
            }
            it.remove();
        }
    }

    /** Reads the next replay chunk for a resuming connection. */
    ReplayLog.Chunk replayChunk(Connection c, long cursor) {
        return log.read(cursor, Connection.REPLAY_BATCH, Connection.REPLAY_SCAN, c::accepts);
    }

    /**
     * Switches a replaying connection to live delivery if nothing for it was published after
     * {@code cursor}. Under the publish lock, so no event can fall between the last log read and the
     * first live offer.
     */
    boolean goLive(Connection c, long cursor) {
        synchronized (publishLock) {
            long pos = cursor;
            while (pos < log.head()) {
                ReplayLog.Chunk more = log.read(pos, 1, Connection.REPLAY_SCAN, c::accepts);
                if (!more.events().isEmpty() || more.fellBehind()) {
                    return false;
                }
                pos = more.next();
            }
            c.markLive();
            return true;
        }
    }

    Frame truncatedFrame(String requested, EventId oldest) {
        return new Frame(WireFormat.control("replay_truncated",
                json(new Truncated(requested, oldest == null ? null : oldest.toString()))));
    }

    void replayed(int events) {
        metrics.replayed(events);
    }

    void written(Connection c, int events, long oldestPublishedNanos) {
        if (events > 0) {
            metrics.delivered(events, oldestPublishedNanos, System.nanoTime());
        }
    }

    void writeFailed(Connection c, Throwable failure) {
        if (isClosedChannel(failure)) {
            LOG.debugf("Stream %s: client gone during a write", c.clientId());
        } else {
            metrics.deliveryError();
            LOG.warnf("Stream %s: write failed: %s", c.clientId(), failure.toString());
        }
    }

    /** A failure that means the client went away (closed channel, reset, broken pipe), not a server fault. */
    boolean isClosedChannel(Throwable t) {
        return t instanceof ClosedChannelException || t instanceof IllegalStateException || t instanceof IOException;
    }

    void droppedOldest(Connection c, boolean first) {
        metrics.dropped(DropReason.SLOW_CONSUMER, 1);
        if (first) {
            LOG.warnf("Stream %s (user %s, %s) is not keeping up: its outbox of %d is full, dropping its oldest "
                    + "events (sse.slow-consumer=drop-oldest); logged once per stream", c.clientId(), c.userId(),
                    c.remoteAddress(), config.queueSize());
        }
    }

    void closed(Connection c, CloseReason reason, int discardedEvents) {
        if (!registry.remove(c)) {
            return;
        }
        metrics.closed(reason);
        if (discardedEvents > 0) {
            metrics.dropped(DropReason.CONNECTION_CLOSED, discardedEvents);
        }
        switch (reason) {
            case SLOW_CONSUMER -> LOG.warnf("Stream %s (user %s, %s) disconnected: its outbox of %d events is full "
                    + "(sse.slow-consumer=disconnect); it can resume from its last event id", c.clientId(),
                    c.userId(), c.remoteAddress(), config.queueSize());
            case TIMEOUT -> LOG.warnf("Stream %s (user %s, %s) closed: a write was pending longer than %s",
                    c.clientId(), c.userId(), c.remoteAddress(), config.clientTimeout());
            default -> LOG.debugf("Stream %s closed (%s) after %d events", c.clientId(), reason.label(),
                    c.eventsSent());
        }
    }

    /**
     * One heartbeat tick: a heartbeat to every idle live stream, closes streams whose write has been
     * pending past {@code sse.client-timeout}, and ages the replay log. Returns the heartbeats queued.
     */
    public int heartbeat() {
        long now = System.nanoTime();
        long timeout = config.clientTimeout().toNanos();
        Frame frame = new Frame(config.heartbeat().mode() == SseConfig.HeartbeatMode.COMMENT
                ? WireFormat.comment("heartbeat")
                : WireFormat.control("heartbeat", json(new Heartbeat(System.currentTimeMillis()))));
        int sent = 0;
        for (Connection c : registry.all()) {
            if (c.pendingWriteNanos(now) > timeout) {
                c.close(CloseReason.TIMEOUT);
            } else if (c.offerHeartbeat(frame)) {
                sent++;
            }
        }
        metrics.heartbeats(sent);
        synchronized (publishLock) {
            // Events age out here when nothing is published; their idempotency keys go with them.
            log.evictExpired(System.currentTimeMillis());
            forgetExpiredKeys();
        }
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

    /** Dev and test only: closes every stream, clears the replay log, idempotency keys and statistics. */
    public void reset() {
        int closed = closeAll(CloseReason.RESET);
        synchronized (publishLock) {
            log.clear();
            byKey.clear();
        }
        metrics.resetStats();
        LOG.infof("Reset: closed %d streams, cleared the replay log and statistics", closed);
    }

    public boolean updateSubscriptions(Connection c, Set<String> topics, Set<String> types) {
        return registry.updateSubscriptions(c, topics, types);
    }

    public Stats stats() {
        return new Stats(registry.size(), registry.users(), metrics.totalConnections(), metrics.eventsPublished(),
                metrics.eventsDelivered(), metrics.eventsDropped(), metrics.deliveryErrors(), log.size(),
                TimeUnit.MILLISECONDS.toSeconds(System.currentTimeMillis() - startedAt.toEpochMilli()), instanceId);
    }

    public record Stats(int activeConnections, int activeUsers, long totalConnections, long eventsPublished,
            long eventsDelivered, long eventsDropped, long deliveryErrors, int replayBufferSize, long uptimeSeconds,
            String instanceId) {
    }

    public ConnectionRegistry registry() {
        return registry;
    }

    public String instanceId() {
        return instanceId;
    }

    private String json(Object value) {
        try {
            return mapper.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName(), e);
        }
    }

    private static List<String> sorted(Set<String> s) {
        List<String> l = new ArrayList<>(s);
        l.sort(null);
        return l;
    }
}
