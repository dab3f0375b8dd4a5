package dev.ssehub.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

import dev.ssehub.hub.HubSettings.SlowConsumerPolicy;

/**
 * {@link ConnectionRegistry}: the index a target's candidates come from, removal from every index, the
 * two limits, and subscription changes that keep the topic index in step.
 */
class ConnectionRegistryTest {

    private static final int NO_LIMIT = Integer.MAX_VALUE;

    private final ConnectionRegistry registry = new ConnectionRegistry();

    /**
     * A connection that is only registered, never started: the registry reads its ids and topics, and
     * never its channel or host.
     */
    private static Connection connection(String userId, String sessionId, String... topics) {
        return new Connection(UUID.randomUUID().toString(), userId, sessionId, new Subscription(Set.of(topics), Set.of()),
                "127.0.0.1", "unit-test", null, null, null,
                new OutboxLimits(8, 1 << 20, 1 << 20, SlowConsumerPolicy.DISCONNECT, new OutboxBudget(1 << 30)));
    }

    private Connection add(String userId, String sessionId, String... topics) {
        Connection c = connection(userId, sessionId, topics);
        assertNull(registry.register(c, NO_LIMIT, NO_LIMIT));
        return c;
    }

    private static Target target(List<String> users, List<String> sessions, List<String> clients, List<String> topics) {
        return new Target(users, sessions, clients, topics);
    }

    private static Set<Connection> set(Collection<Connection> c) {
        return new HashSet<>(c);
    }

    @Test
    void aBroadcastTakesEveryConnection() {
        Connection a = add("u1", "s1", "news");
        Connection b = add(null, null);
        assertEquals(Set.of(a, b), set(registry.candidates(Target.BROADCAST)));
    }

    @Test
    void candidatesComeFromTheMostSelectiveGivenField() {
        // alice: 2 streams; bob: 20; topic "news": 10 streams (one of them alice's); session "tab-1": 1 stream.
        Connection alice1 = add("alice", "tab-1", "news");
        Connection alice2 = add("alice", "tab-2");
        List<Connection> bob = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            bob.add(add("bob", "bob-" + i));
        }
        List<Connection> news = new ArrayList<>(List.of(alice1));
        for (int i = 0; i < 9; i++) {
            news.add(add("reader" + i, null, "news"));
        }

        // The user index (2) beats the topic index (10): alice's streams, both, although only one reads news.
        assertEquals(Set.of(alice1, alice2),
                set(registry.candidates(target(List.of("alice"), null, null, List.of("news")))));
        // The topic index (10) beats the user index (20).
        assertEquals(set(news), set(registry.candidates(target(List.of("bob"), null, null, List.of("news")))));
        // The session index (1) beats both.
        assertEquals(Set.of(alice1),
                set(registry.candidates(target(List.of("alice"), List.of("tab-1"), null, List.of("news")))));
        // Client ids are looked up directly, and beat a user index that is not smaller.
        assertEquals(Set.of(bob.get(3)),
                set(registry.candidates(target(List.of("bob"), null, List.of(bob.get(3).clientId()), null))));
        // Several keys of one field: the union of their sets.
        assertEquals(Set.of(alice1, alice2, bob.get(0), bob.get(1)), set(registry.candidates(
                target(null, List.of("tab-1", "tab-2", "bob-0", "bob-1", "nobody"), null, null))));
    }

    @Test
    void aFieldNamingNoConnectionShortCutsToNothing() {
        add("alice", "tab-1", "news");
        assertTrue(registry.candidates(target(List.of("nobody"), null, null, List.of("news"))).isEmpty());
        assertTrue(registry.candidates(target(null, null, List.of("no-such-client"), List.of("news"))).isEmpty());
        assertTrue(registry.candidates(target(null, null, null, List.of("weather"))).isEmpty());
    }

    @Test
    void aConnectionInSeveralTargetedTopicsIsACandidateOnce() {
        Connection both = add(null, null, "news", "sport");
        Connection news = add(null, null, "news");
        Collection<Connection> c = registry.candidates(target(null, null, null, List.of("news", "sport")));
        assertEquals(2, c.size(), "no duplicate: " + c);
        assertEquals(Set.of(both, news), set(c));
    }

    @Test
    void removeCleansEveryIndex() {
        List<Connection> all = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            all.add(add("u" + (i % 4), "s" + (i % 7), "a" + (i % 5), "b" + (i % 3), "shared"));
        }
        all.add(add(null, null));
        assertEquals(31, registry.size());
        assertEquals(4 + 7 + (5 + 3 + 1), registry.indexKeys());
        for (Connection c : all) {
            assertSame(c, registry.get(c.clientId()));
            assertTrue(registry.remove(c));
            assertFalse(registry.remove(c), "removed once only");
            assertNull(registry.get(c.clientId()));
            assertFalse(registry.candidates(target(null, null, null, List.of("shared"))).contains(c));
        }
        assertEquals(0, registry.size());
        assertEquals(0, registry.users());
        assertEquals(0, registry.indexKeys(), "no empty sets left behind");
        assertTrue(registry.all().isEmpty());
    }

    @Test
    void maxClientsRefusesTheConnectionBeyondTheLimit() {
        List<Connection> in = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Connection c = connection("u" + i, null, "news");
            assertNull(registry.register(c, 3, NO_LIMIT));
            in.add(c);
        }
        Connection fourth = connection("u9", "s9", "news");
        assertEquals(ConnectionRegistry.Rejection.MAX_CLIENTS, registry.register(fourth, 3, NO_LIMIT));
        assertEquals(3, registry.size());
        assertNull(registry.get(fourth.clientId()), "a refused connection is in no index");
        assertEquals(0, registry.connectionsOfUser("u9"));
        assertFalse(registry.candidates(target(null, null, null, List.of("news"))).contains(fourth));

        registry.remove(in.get(0));
        assertNull(registry.register(fourth, 3, NO_LIMIT), "a freed slot is taken");
    }

    @Test
    void maxPerUserRefusesThatUserOnly() {
        assertNull(registry.register(connection("alice", null), NO_LIMIT, 2));
        Connection second = connection("alice", null);
        assertNull(registry.register(second, NO_LIMIT, 2));
        Connection third = connection("alice", null);
        assertEquals(ConnectionRegistry.Rejection.MAX_CONNECTIONS_PER_USER, registry.register(third, NO_LIMIT, 2));
        assertEquals(2, registry.connectionsOfUser("alice"));
        assertNull(registry.register(connection("bob", null), NO_LIMIT, 2), "another user is not limited by alice");
        for (int i = 0; i < 5; i++) {
            assertNull(registry.register(connection(null, null), NO_LIMIT, 2), "anonymous streams have no user limit");
        }
        registry.remove(second);
        assertNull(registry.register(third, NO_LIMIT, 2));
    }

    @Test
    void maxClientsIsCheckedFirst() {
        assertNull(registry.register(connection("alice", null), 1, 1));
        assertEquals(ConnectionRegistry.Rejection.MAX_CLIENTS, registry.register(connection("alice", null), 1, 1));
    }

    @Test
    void changeSubscriptionKeepsTheTopicIndexInStep() {
        Connection c = add("u1", null, "news", "sport");
        Subscription next = registry.changeSubscription(c, s -> s.change(List.of("weather"), List.of("news"), Set.of("goal")));
        assertEquals(Set.of("sport", "weather"), next.topics());
        assertEquals(Set.of("goal"), next.types());
        assertSame(next, c.subscription());
        assertTrue(registry.candidates(target(null, null, null, List.of("news"))).isEmpty());
        assertEquals(Set.of(c), set(registry.candidates(target(null, null, null, List.of("weather")))));
        assertEquals(Set.of(c), set(registry.candidates(target(null, null, null, List.of("sport")))));
        assertEquals(1 + 2, registry.indexKeys());

        assertTrue(registry.remove(c));
        assertEquals(0, registry.indexKeys(), "removal uses the current topics");
    }

    @Test
    void aFailedChangeChangesNothing() {
        Connection c = add(null, null, "news");
        List<String> tooMany = new ArrayList<>();
        for (int i = 0; i <= Subscription.MAX_ENTRIES; i++) {
            tooMany.add("t" + i);
        }
        assertThrows(IllegalArgumentException.class, () -> registry.changeSubscription(c, s -> s.change(tooMany, List.of(), null)));
        assertEquals(Set.of("news"), c.topics());
        assertEquals(1, registry.indexKeys());
    }

    @Test
    void aClosedConnectionCannotBeChanged() {
        Connection c = add(null, null, "news");
        registry.remove(c);
        assertNull(registry.changeSubscription(c, s -> s.change(List.of("weather"), List.of(), null)));
        assertEquals(Set.of("news"), c.topics());
        assertEquals(0, registry.indexKeys(), "no index entry for a connection that is gone");
    }

    @Test
    void concurrentChangesAreAppliedOneAfterTheOther() throws Exception {
        Connection c = add(null, null);
        int threads = 4;
        int perThread = Subscription.MAX_ENTRIES / threads;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < perThread; i++) {
                        String topic = "t" + thread + "-" + i;
                        registry.changeSubscription(c, s -> s.change(List.of(topic), List.of(), null));
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(Subscription.MAX_ENTRIES, c.topics().size(), "no change lost");
        assertEquals(Subscription.MAX_ENTRIES, registry.indexKeys());
        for (String topic : c.topics()) {
            assertEquals(Set.of(c), set(registry.candidates(target(null, null, null, List.of(topic)))));
        }
    }
}
