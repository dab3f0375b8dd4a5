package dev.ssehub.hub;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

import jakarta.enterprise.context.ApplicationScoped;

/**
 * Every open connection, by client id, and indexed by user, session and topic, so that finding the
 * connections of a target costs work in proportion to the connections it names, not to all of them.
 *
 * <p>Changes (register, remove, subscription updates) are serialised on one lock so the indexes always
 * agree with the connections; readers ({@link #candidates}, {@link #all}) take no lock and see a
 * weakly consistent view, which publishing tolerates: a connection registered during a publish may or
 * may not get that event, and a resuming connection replays it from the log either way.
 */
@ApplicationScoped
public class ConnectionRegistry {

    /** Why a connection was refused; the value is the {@code reason} label of {@code sse_connections_rejected_total}. */
    public enum Rejection {
        MAX_CLIENTS("max_clients"),
        MAX_CONNECTIONS_PER_USER("max_connections_per_user");

        private final String label;

        Rejection(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private final Map<String, Connection> byClient = new ConcurrentHashMap<>();
    private final Map<String, Set<Connection>> byUser = new ConcurrentHashMap<>();
    private final Map<String, Set<Connection>> bySession = new ConcurrentHashMap<>();
    private final Map<String, Set<Connection>> byTopic = new ConcurrentHashMap<>();
    private final Object changes = new Object();

    /** Adds the connection unless a limit forbids it; returns null when added, else why not. */
    Rejection register(Connection c, int maxClients, int maxPerUser) {
        synchronized (changes) {
            if (byClient.size() >= maxClients) {
                return Rejection.MAX_CLIENTS;
            }
            if (c.userId() != null && count(byUser, c.userId()) >= maxPerUser) {
                return Rejection.MAX_CONNECTIONS_PER_USER;
            }
            byClient.put(c.clientId(), c);
            index(byUser, c.userId(), c);
            index(bySession, c.sessionId(), c);
            for (String t : c.topics()) {
                index(byTopic, t, c);
            }
            return null;
        }
    }

    /** Removes the connection from every index; true the first time only. */
    boolean remove(Connection c) {
        synchronized (changes) {
            if (!byClient.remove(c.clientId(), c)) {
                return false;
            }
            unindex(byUser, c.userId(), c);
            unindex(bySession, c.sessionId(), c);
            for (String t : c.topics()) {
                unindex(byTopic, t, c);
            }
            return true;
        }
    }

    /**
     * Changes the connection's subscription as one step: {@code change} computes the new subscription from
     * the current one under the registry's lock, so two concurrent changes apply one after the other and
     * neither is lost. The topic index gains the new topics before the connection switches and loses the
     * old ones after, so a concurrent publish finds the connection under either state and
     * {@link Connection#accepts} decides by the one state it reads. Returns the new subscription, or null
     * when the connection is no longer registered.
     *
     * @throws IllegalArgumentException from {@code change} (nothing changes then)
     */
    Subscription changeSubscription(Connection c, UnaryOperator<Subscription> change) {
        synchronized (changes) {
            if (byClient.get(c.clientId()) != c) {
                return null;
            }
            Subscription old = c.subscription();
            Subscription next = change.apply(old);
            for (String t : next.topics()) {
                if (!old.topics().contains(t)) {
                    index(byTopic, t, c);
                }
            }
            c.subscription(next);
            for (String t : old.topics()) {
                if (!next.topics().contains(t)) {
                    unindex(byTopic, t, c);
                }
            }
            return next;
        }
    }

    /**
     * The connections that may match the target: all of them for a broadcast, else those of the most
     * selective given field. The caller still checks {@link Connection#accepts} (the other fields and
     * the connection's type filter).
     */
    Collection<Connection> candidates(Target t) {
        if (t.isBroadcast()) {
            return byClient.values();
        }
        Collection<Connection> best = null;
        int bestSize = Integer.MAX_VALUE;
        if (!t.clientIds().isEmpty()) {
            List<Connection> found = new ArrayList<>(t.clientIds().size());
            for (String id : t.clientIds()) {
                Connection c = byClient.get(id);
                if (c != null) {
                    found.add(c);
                }
            }
            best = found;
            bestSize = found.size();
        }
        if (!t.userIds().isEmpty() && bestSize > 0) {
            int size = sizeOf(byUser, t.userIds());
            if (size < bestSize) {
                best = union(byUser, t.userIds(), false);
                bestSize = size;
            }
        }
        if (!t.sessionIds().isEmpty() && bestSize > 0) {
            int size = sizeOf(bySession, t.sessionIds());
            if (size < bestSize) {
                best = union(bySession, t.sessionIds(), false);
                bestSize = size;
            }
        }
        if (!t.topics().isEmpty() && bestSize > 0) {
            int size = sizeOf(byTopic, t.topics());
            if (size < bestSize) {
                // One connection can be in several topics' sets: deduplicate.
                best = union(byTopic, t.topics(), t.topics().size() > 1);
            }
        }
        return best == null ? List.of() : best;
    }

    private static int sizeOf(Map<String, Set<Connection>> index, List<String> keys) {
        int n = 0;
        for (String k : keys) {
            Set<Connection> s = index.get(k);
            if (s != null) {
                n += s.size();
            }
        }
        return n;
    }

    private static Collection<Connection> union(Map<String, Set<Connection>> index, List<String> keys, boolean dedupe) {
        if (keys.size() == 1) {
            Set<Connection> s = index.get(keys.get(0));
            return s == null ? List.of() : s;
        }
        Collection<Connection> out = dedupe ? new HashSet<>() : new ArrayList<>();
        for (String k : keys) {
            Set<Connection> s = index.get(k);
            if (s != null) {
                out.addAll(s);
            }
        }
        return out;
    }

    private static void index(Map<String, Set<Connection>> index, String key, Connection c) {
        if (key != null) {
            index.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(c);
        }
    }

    private static void unindex(Map<String, Set<Connection>> index, String key, Connection c) {
        if (key != null) {
            index.computeIfPresent(key, (k, set) -> {
                set.remove(c);
                return set.isEmpty() ? null : set;
            });
        }
    }

    private static int count(Map<String, Set<Connection>> index, String key) {
        Set<Connection> s = index.get(key);
        return s == null ? 0 : s.size();
    }

    public Connection get(String clientId) {
        return byClient.get(clientId);
    }

    /** All open connections (a live view). */
    public Collection<Connection> all() {
        return Collections.unmodifiableCollection(byClient.values());
    }

    public int size() {
        return byClient.size();
    }

    public int users() {
        return byUser.size();
    }

    public int connectionsOfUser(String userId) {
        return count(byUser, userId);
    }

    /** Sizes of the secondary indexes: user, session and topic keys (for leak checks). */
    public int indexKeys() {
        return byUser.size() + bySession.size() + byTopic.size();
    }
}
