package dev.ssehub.backplane;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ssehub.hub.Backplane;
import dev.ssehub.hub.Event;
import dev.ssehub.hub.EventId;
import dev.ssehub.hub.Target;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

/**
 * Every instance on one Redis Stream: the stream's entry ids are the cluster's event ids, the stream is
 * the history a client resumes from on any instance, and each instance tails it with a cursor of its own.
 *
 * <p><b>Keys</b> (one hash tag, so a Redis Cluster keeps them in one slot): {@code {prefix}:events} (the
 * stream), {@code {prefix}:epoch} (a random id and the time the stream was created) and
 * {@code {prefix}:key:<idempotency key>} (the event a key produced, until {@code sse.replay.max-age}).
 *
 * <p><b>Publishing</b> runs one Lua script per request: it creates the epoch when the stream is new,
 * skips drafts whose idempotency key is known, and appends the others with {@code XADD ... MAXLEN ~},
 * atomically, so two instances publishing the same key produce one event. The answer waits until this
 * instance's tail delivered the new events (to report the local count), at most {@link #LOCAL_WAIT}.
 *
 * <p><b>Tailing</b>: a dedicated connection runs {@code XREAD BLOCK} from the last id delivered, shorter
 * than the client's command timeout, and hands entries to the hub in stream order. Pub/sub is not used:
 * its subscriptions vanish silently when Redis restarts, and a stream read from a cursor cannot miss an
 * entry. When Redis is unreachable the tail retries with backoff and resumes from its cursor, so every
 * entry Redis accepted is delivered once. When the epoch changes (Redis lost its data: a restart without
 * persistence, a flush), the history restarts: clients resuming from before it get {@code replay_truncated}.
 *
 * <p><b>History</b>: at start, the last {@code sse.replay.size} entries are loaded into the hub's replay
 * log, which every later entry extends; a resuming client is served from that copy of the stream on
 * whichever instance it reaches.
 */
public final class RedisBackplane implements Backplane {

    private static final Logger LOG = Logger.getLogger(RedisBackplane.class);
    /** How long a publish waits for this instance's tail to deliver its events before answering anyway. */
    static final Duration LOCAL_WAIT = Duration.ofSeconds(2);
    private static final long MIN_BACKOFF_MS = 100;
    private static final long MAX_BACKOFF_MS = 5000;
    /** The stream keeps at least this many entries, so a tail that lags a little never finds its entries trimmed. */
    private static final int MIN_STREAM_LENGTH = 1000;
    private static final int READ_COUNT = 1000;
    private static final int LAG_SCAN = 100_000;

    /**
     * KEYS: stream, epoch, then one idempotency key per draft (a placeholder for drafts without one).
     * ARGV: maxlen, a new epoch id, key ttl in ms, then per draft: key (or ''), type, data, target.
     * Returns the epoch, then per draft its new entry id, or 'dup <id> <type>' for a known key.
     */
    static final String PUBLISH = """
            local epoch = redis.call('GET', KEYS[2])
            if (not epoch) or redis.call('EXISTS', KEYS[1]) == 0 then
              local t = redis.call('TIME')
              epoch = ARGV[2] .. ' ' .. (t[1] * 1000 + math.floor(t[2] / 1000))
              redis.call('SET', KEYS[2], epoch)
            end
            local out = {epoch}
            local n = (#ARGV - 3) / 4
            for i = 0, n - 1 do
              local a = 4 + i * 4
              local key = ARGV[a]
              local prior = false
              if key ~= '' then prior = redis.call('GET', KEYS[3 + i]) end
              if prior then
                out[#out + 1] = 'dup ' .. prior
              else
                local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
                    't', ARGV[a + 1], 'd', ARGV[a + 2], 'g', ARGV[a + 3], 'k', key, 'e', epoch)
                if key ~= '' then redis.call('SET', KEYS[3 + i], id .. ' ' .. ARGV[a + 1], 'PX', ARGV[3]) end
                out[#out + 1] = id
              end
            end
            return out
            """;
    /** How many entries follow the cursor (at most ARGV[2]), counted in Redis. */
    private static final String LAG = "return #redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2])";

    /** A target in the stream: only the lists that are given. */
    @RegisterForReflection
    record StoredTarget(List<String> u, List<String> s, List<String> c, List<String> t) {
    }

    private final Redis redis;
    private final Vertx vertx;
    private final ObjectMapper mapper;
    private final String streamKey;
    private final String epochKey;
    private final String keyPrefix;
    private final String noKey;
    private final int maxLen;
    private final int historySize;
    private final long keyTtlMillis;
    private final long blockMillis;
    private final Pending pending = new Pending();
    private final AtomicLong reconnects = new AtomicLong();

    private volatile Receiver receiver;
    private volatile boolean up;
    private volatile boolean everUp;
    private volatile String downReason = "not connected yet";
    private volatile long downSinceMillis = System.currentTimeMillis();
    private volatile long lag;
    private volatile boolean lagWarned;
    private volatile boolean stopped;
    private volatile boolean resyncRequested;
    private long lagTimer = -1;

    // Tail state: touched only by the tail's callbacks, which run one after the other.
    private RedisConnection tail;
    private volatile String cursor = "0-0";
    private String epoch;
    private boolean synced;
    private long backoffMillis = MIN_BACKOFF_MS;

    /**
     * @param prefix      the hash tag of every key ({@code sse.redis.prefix})
     * @param historySize entries loaded at start and kept in the stream ({@code sse.replay.size})
     * @param keyWindow   how long an idempotency key counts ({@code sse.replay.max-age})
     * @param block       how long one {@code XREAD} blocks ({@code sse.redis.block}); below the command timeout
     */
    public RedisBackplane(Redis redis, Vertx vertx, ObjectMapper mapper, String prefix, int historySize,
            Duration keyWindow, Duration block) {
        this.redis = redis;
        this.vertx = vertx;
        this.mapper = mapper;
        this.streamKey = "{" + prefix + "}:events";
        this.epochKey = "{" + prefix + "}:epoch";
        this.keyPrefix = "{" + prefix + "}:key:";
        this.noKey = "{" + prefix + "}:nokey";
        this.historySize = historySize;
        this.maxLen = Math.max(historySize, MIN_STREAM_LENGTH);
        this.keyTtlMillis = Math.max(1, keyWindow.toMillis());
        this.blockMillis = block.toMillis();
    }

    // ------------------------------------------------------------------ start, tail

    @Override
    public void start(Receiver receiver) {
        this.receiver = receiver;
        CompletableFuture<Void> loaded = new CompletableFuture<>();
        vertx.runOnContext(v -> connectTail(loaded));
        try {
            loaded.get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warnf("Redis backplane: history not loaded at start (%s); streams start with an empty replay "
                    + "log and events flow once Redis answers", e.getMessage());
        }
        lagTimer = vertx.setPeriodic(5000, id -> measureLag());
    }

    /** Opens the tail's connection, catches up with the stream's history, then polls. */
    private void connectTail(CompletableFuture<Void> loaded) {
        if (stopped) {
            return;
        }
        redis.connect()
                .onSuccess(conn -> {
                    tail = conn;
                    conn.exceptionHandler(t -> tailFailed(conn, t, loaded));
                    conn.send(Request.cmd(Command.GET).arg(epochKey))
                            .compose(e -> synchronise(conn, e == null ? null : e.toString()))
                            .onSuccess(v -> {
                                markUp();
                                backoffMillis = MIN_BACKOFF_MS;
                                loaded.complete(null);
                                poll(conn, loaded);
                            })
                            .onFailure(t -> tailFailed(conn, t, loaded));
                })
                .onFailure(t -> tailFailed(null, t, loaded));
    }

    /**
     * Follows the stream's epoch. The same as before: the cursor stays, so nothing accepted meanwhile is
     * missed. The first one this instance sees: the entries still held are loaded as history, and the tail
     * continues after them. A new one (Redis lost its data, or a development reset): the history restarts
     * and every entry of the new stream is new, read from its start.
     */
    private Future<Void> synchronise(RedisConnection conn, String current) {
        boolean first = !synced;
        if (!first && !resyncRequested && current != null && current.equals(epoch)) {
            return Future.succeededFuture();
        }
        resyncRequested = false;
        synced = true;
        epoch = current;
        cursor = "0-0";
        receiver.restart(historyStart(current));
        if (!first) {
            LOG.warnf("Redis backplane: the stream's history restarted (Redis lost its data, or it was reset); "
                    + "clients resuming from before %s are told they missed events", historyStart(current));
        }
        if (!first || current == null || historySize == 0) {
            return Future.succeededFuture();
        }
        return conn.send(Request.cmd(Command.XREVRANGE).arg(streamKey).arg("+").arg("-").arg("COUNT").arg(historySize))
                .map(r -> {
                    List<Response> entries = new ArrayList<>();
                    for (Response entry : r) {
                        entries.add(entry);
                    }
                    Collections.reverse(entries);
                    for (Response entry : entries) {
                        Event e = event(entry);
                        if (e != null) {
                            receiver.history(e);
                        }
                    }
                    LOG.infof("Redis backplane: loaded %d events of history from %s", entries.size(), streamKey);
                    return null;
                });
    }

    private void poll(RedisConnection conn, CompletableFuture<Void> loaded) {
        if (stopped || conn != tail) {
            return;
        }
        if (resyncRequested) {
            conn.send(Request.cmd(Command.GET).arg(epochKey))
                    .compose(e -> synchronise(conn, e == null ? null : e.toString()))
                    .onSuccess(v -> poll(conn, loaded))
                    .onFailure(t -> tailFailed(conn, t, loaded));
            return;
        }
        conn.send(Request.cmd(Command.XREAD).arg("COUNT").arg(READ_COUNT).arg("BLOCK").arg(blockMillis)
                .arg("STREAMS").arg(streamKey).arg(cursor))
                .onSuccess(r -> {
                    markUp();
                    if (r != null) {
                        for (Response stream : streams(r)) {
                            for (Response entry : stream) {
                                deliver(entry);
                            }
                        }
                    }
                    poll(conn, loaded);
                })
                .onFailure(t -> tailFailed(conn, t, loaded));
    }

    /** The entries per stream of an XREAD answer, as RESP2 (pairs) or RESP3 (a map) gives them. */
    private static List<Response> streams(Response r) {
        List<Response> out = new ArrayList<>();
        if (r.isMap()) {
            for (String k : r.getKeys()) {
                out.add(r.get(k));
            }
        } else {
            for (Response pair : r) {
                out.add(pair.get(1));
            }
        }
        return out;
    }

    /** Hands one stream entry to the hub, in stream order. */
    private void deliver(Response entry) {
        Event event = event(entry);
        if (event != null) {
            pending.delivered(event.id(), receiver.deliver(event));
        }
    }

    /** The event of a stream entry (moving the cursor past it), or null for an entry this service did not write. */
    private Event event(Response entry) {
        String id = entry.get(0).toString();
        Map<String, String> f = fields(entry.get(1));
        cursor = id;
        String e = f.get("e");
        if (e != null && !e.equals(epoch)) {
            // Entries of a new stream (Redis lost its data) before a reconnect told us.
            epoch = e;
            receiver.restart(historyStart(e));
        }
        try {
            EventId eid = EventId.parse(id);
            String key = f.getOrDefault("k", "");
            long ageNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(0, System.currentTimeMillis() - eid.millis()));
            return new Event(eid, new Event.Draft(f.get("t"), f.get("d"), target(f.get("g")), key.isEmpty() ? null : key),
                    Instant.ofEpochMilli(eid.millis()), System.nanoTime() - ageNanos);
        } catch (RuntimeException bad) {
            LOG.warnf("Redis backplane: skipped entry %s of %s, which this service did not write: %s", id, streamKey,
                    bad.getMessage());
            return null;
        }
    }

    private static Map<String, String> fields(Response r) {
        Map<String, String> out = new HashMap<>();
        if (r.isMap()) {
            for (String k : r.getKeys()) {
                out.put(k, r.get(k).toString());
            }
        } else {
            for (int i = 0; i + 1 < r.size(); i += 2) {
                out.put(r.get(i).toString(), r.get(i + 1).toString());
            }
        }
        return out;
    }

    /** The tail's connection failed (or could not be opened): retry with backoff, from the same cursor. */
    private void tailFailed(RedisConnection conn, Throwable t, CompletableFuture<Void> loaded) {
        if (conn != null) {
            if (conn != tail) {
                return; // already handled (the connection's exception handler and its pending command both report)
            }
            tail = null;
            conn.exceptionHandler(null);
            conn.close();
        }
        if (stopped) {
            return;
        }
        markDown("the stream cannot be read: " + t.getMessage());
        loaded.completeExceptionally(t); // start() stops waiting; the history loads when Redis answers
        long delay = backoffMillis;
        backoffMillis = Math.min(MAX_BACKOFF_MS, backoffMillis * 2);
        vertx.setTimer(delay, id -> {
            reconnects.incrementAndGet();
            connectTail(loaded);
        });
    }

    /** The id from which the history of this epoch is complete: when its stream was created. */
    private static EventId historyStart(String epoch) {
        if (epoch != null) {
            int space = epoch.lastIndexOf(' ');
            try {
                return new EventId(Long.parseLong(epoch.substring(space + 1)), 0);
            } catch (RuntimeException e) {
                // An epoch this service did not write: treat the history as starting now.
            }
        }
        return new EventId(System.currentTimeMillis(), 0);
    }

    private void measureLag() {
        String from = cursor;
        if (!up || stopped) {
            return;
        }
        redis.send(Request.cmd(Command.EVAL).arg(LAG).arg(1).arg(streamKey).arg("(" + from).arg(LAG_SCAN))
                .onSuccess(r -> {
                    lag = r == null ? 0 : r.toLong();
                    // Redis keeps about maxLen entries: a tail that falls that far behind would find the entries
                    // it has not read trimmed, and Redis 6 cannot tell which. Say so before it happens.
                    boolean risk = lag > maxLen * 3L / 4;
                    if (risk && !lagWarned) {
                        LOG.warnf("Redis backplane: this instance is %d entries behind %s, which keeps about %d; "
                                + "entries it has not read yet will be trimmed if it falls further behind "
                                + "(sse_backplane_lag_entries; raise sse.replay.size or give the instance more CPU)",
                                lag, streamKey, maxLen);
                    }
                    lagWarned = risk;
                })
                .onFailure(t -> LOG.debugf("Redis backplane: lag not measured: %s", t.getMessage()));
    }

    // ------------------------------------------------------------------ publish

    @Override
    public CompletionStage<List<Published>> publish(List<Event.Draft> drafts) {
        Request req = Request.cmd(Command.EVAL).arg(PUBLISH).arg(2 + drafts.size()).arg(streamKey).arg(epochKey);
        for (Event.Draft d : drafts) {
            req.arg(d.idempotencyKey() == null ? noKey : keyPrefix + d.idempotencyKey());
        }
        req.arg(maxLen).arg(UUID.randomUUID().toString()).arg(keyTtlMillis);
        for (Event.Draft d : drafts) {
            req.arg(d.idempotencyKey() == null ? "" : d.idempotencyKey()).arg(d.type()).arg(d.dataJson())
                    .arg(target(d.target()));
        }
        CompletableFuture<List<Published>> out = new CompletableFuture<>();
        redis.send(req).onComplete(ar -> {
            if (ar.failed()) {
                String why = String.valueOf(ar.cause().getMessage());
                if (why.contains("max wait queue")) {
                    // Every pooled connection is busy and the queue for one is full: this instance is
                    // overloaded, Redis itself is fine. Refuse this request only.
                    out.completeExceptionally(new UnavailableException("this instance has too many Redis commands "
                            + "in flight (quarkus.redis.max-pool-size, quarkus.redis.max-pool-waiting)", ar.cause()));
                    return;
                }
                markDown("publishing failed: " + why);
                out.completeExceptionally(new UnavailableException("Redis did not accept the events (" + why + ")",
                        ar.cause()));
                return;
            }
            markUp();
            answer(drafts, ar.result(), out);
        });
        return out;
    }

    /** Turns the script's answer into results, each new event's after this instance delivered it. */
    private void answer(List<Event.Draft> drafts, Response r, CompletableFuture<List<Published>> out) {
        List<CompletableFuture<Published>> each = new ArrayList<>(drafts.size());
        for (int i = 0; i < drafts.size(); i++) {
            String s = r.get(i + 1).toString();
            if (s.startsWith("dup ")) {
                String[] parts = s.split(" ");
                EventId id = EventId.parse(parts[1]);
                each.add(CompletableFuture.completedFuture(new Published(id, parts.length > 2 ? parts[2] : drafts.get(i).type(),
                        Instant.ofEpochMilli(id.millis()), 0, true)));
            } else {
                EventId id = EventId.parse(s);
                String type = drafts.get(i).type();
                each.add(pending.await(id).thenApply(n -> new Published(id, type, Instant.ofEpochMilli(id.millis()), n,
                        false)));
            }
        }
        CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                .thenRun(() -> out.complete(each.stream().map(CompletableFuture::join).toList()));
    }

    private String target(Target t) {
        if (t.isBroadcast()) {
            return "";
        }
        try {
            return mapper.writeValueAsString(new StoredTarget(emptyToNull(t.userIds()), emptyToNull(t.sessionIds()),
                    emptyToNull(t.clientIds()), emptyToNull(t.topics())));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a target", e);
        }
    }

    private Target target(String json) {
        if (json == null || json.isEmpty()) {
            return Target.BROADCAST;
        }
        try {
            StoredTarget s = mapper.readValue(json, StoredTarget.class);
            return new Target(s.u(), s.s(), s.c(), s.t());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("unreadable target " + json, e);
        }
    }

    private static List<String> emptyToNull(List<String> l) {
        return l.isEmpty() ? null : l;
    }

    // ------------------------------------------------------------------ state

    private void markUp() {
        if (!up) {
            up = true;
            if (everUp) {
                LOG.infof("Redis backplane: available again after %d ms; delivery resumed from %s",
                        System.currentTimeMillis() - downSinceMillis, cursor);
            } else {
                everUp = true;
                LOG.infof("Redis backplane: connected; following %s", streamKey);
            }
        }
    }

    private void markDown(String reason) {
        if (stopped) {
            return; // shutting down: the client is closed, Redis is not the problem
        }
        downReason = reason;
        if (up) {
            up = false;
            downSinceMillis = System.currentTimeMillis();
            LOG.warnf("Redis backplane: unavailable (%s); publishing answers 503, streams stay open, and delivery "
                    + "resumes from the last event delivered when Redis is back", reason);
        }
    }

    @Override
    public boolean isUp() {
        return up;
    }

    @Override
    public String name() {
        return "redis";
    }

    @Override
    public String status() {
        return up ? "following " + streamKey + " at " + cursor
                : "unavailable for " + (System.currentTimeMillis() - downSinceMillis) + " ms: " + downReason;
    }

    @Override
    public long lagEntries() {
        return lag;
    }

    @Override
    public long reconnects() {
        return reconnects.get();
    }

    @Override
    public void stop() {
        stopped = true;
        if (lagTimer >= 0) {
            vertx.cancelTimer(lagTimer);
        }
        RedisConnection conn = tail;
        if (conn != null) {
            conn.close();
        }
    }

    @Override
    public CompletionStage<Void> reset() {
        Promise<Void> done = Promise.promise();
        redis.send(Request.cmd(Command.EVAL).arg("""
                for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end
                redis.call('DEL', KEYS[1], KEYS[2])
                return 1
                """).arg(2).arg(streamKey).arg(epochKey).arg(keyPrefix + "*"))
                .onSuccess(r -> {
                    resyncRequested = true;
                    done.complete();
                })
                .onFailure(done::fail);
        return done.future().toCompletionStage();
    }

    /**
     * Publishes waiting for this instance's tail: the tail may deliver an event before the publish's
     * answer arrives, so recent deliveries are remembered for a moment.
     */
    static final class Pending {
        private static final int RECENT = 4096;
        private final Map<EventId, CompletableFuture<Integer>> waiting = new HashMap<>();
        private final Map<EventId, Integer> recent = new LinkedHashMap<>(RECENT, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<EventId, Integer> eldest) {
                return size() > RECENT;
            }
        };

        void delivered(EventId id, int streams) {
            CompletableFuture<Integer> f;
            synchronized (this) {
                f = waiting.remove(id);
                if (f == null) {
                    recent.put(id, streams);
                }
            }
            if (f != null) {
                f.complete(streams);
            }
        }

        CompletableFuture<Integer> await(EventId id) {
            CompletableFuture<Integer> f;
            synchronized (this) {
                Integer n = recent.remove(id);
                if (n != null) {
                    return CompletableFuture.completedFuture(n);
                }
                f = new CompletableFuture<>();
                waiting.put(id, f);
            }
            // This instance lags behind Redis: answer with what it knows (nothing delivered here yet).
            f.completeOnTimeout(0, LOCAL_WAIT.toMillis(), TimeUnit.MILLISECONDS)
                    .whenComplete((n, t) -> {
                        synchronized (this) {
                            waiting.remove(id, f);
                        }
                    });
            return f;
        }
    }
}
