package dev.ssehub.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** {@link Target}: AND across the given fields, OR within a list, any-of for topics; nothing given is a broadcast. */
class TargetTest {

    private static final Set<String> NEWS_SPORT = Set.of("news", "sport");

    private static Target users(String... ids) {
        return new Target(List.of(ids), null, null, null);
    }

    @Test
    void nothingGivenIsABroadcastThatMatchesEveryone() {
        Target t = new Target(null, null, null, null);
        assertTrue(t.isBroadcast());
        assertEquals(Target.BROADCAST, t);
        assertTrue(t.matches("c1", null, null, Set.of()));
        assertTrue(t.matches("c1", "u1", "s1", NEWS_SPORT));
        assertTrue(new Target(List.of(), List.of(), List.of(), List.of()).isBroadcast());
    }

    @Test
    void anyGivenFieldMakesItTargeted() {
        assertFalse(users("u1").isBroadcast());
        assertFalse(new Target(null, List.of("s1"), null, null).isBroadcast());
        assertFalse(new Target(null, null, List.of("c1"), null).isBroadcast());
        assertFalse(new Target(null, null, null, List.of("news")).isBroadcast());
    }

    @Test
    void eachFieldMatchesAnyOfItsValues() {
        Target u = users("u1", "u2");
        assertTrue(u.matches("c", "u1", null, Set.of()));
        assertTrue(u.matches("c", "u2", null, Set.of()));
        assertFalse(u.matches("c", "u3", null, Set.of()));
        assertFalse(u.matches("c", null, null, Set.of()), "an anonymous stream is never a user's");

        Target s = new Target(null, List.of("s1"), null, null);
        assertTrue(s.matches("c", null, "s1", Set.of()));
        assertFalse(s.matches("c", null, "s2", Set.of()));
        assertFalse(s.matches("c", null, null, Set.of()));

        Target c = new Target(null, null, List.of("c1", "c2"), null);
        assertTrue(c.matches("c2", null, null, Set.of()));
        assertFalse(c.matches("c3", null, null, Set.of()));

        Target topics = new Target(null, null, null, List.of("news", "weather"));
        assertTrue(topics.matches("c", null, null, Set.of("news")));
        assertTrue(topics.matches("c", null, null, NEWS_SPORT), "one shared topic is enough");
        assertFalse(topics.matches("c", null, null, Set.of("sport")));
        assertFalse(topics.matches("c", null, null, Set.of()));
    }

    @Test
    void givenFieldsMustAllMatch() {
        Target t = new Target(List.of("u1"), List.of("s1"), List.of("c1"), List.of("news"));
        assertTrue(t.matches("c1", "u1", "s1", NEWS_SPORT));
        assertFalse(t.matches("c2", "u1", "s1", NEWS_SPORT), "client differs");
        assertFalse(t.matches("c1", "u2", "s1", NEWS_SPORT), "user differs");
        assertFalse(t.matches("c1", "u1", "s2", NEWS_SPORT), "session differs");
        assertFalse(t.matches("c1", "u1", "s1", Set.of("sport")), "no shared topic");

        Target userAndTopic = new Target(List.of("u1"), null, null, List.of("news"));
        assertTrue(userAndTopic.matches("any", "u1", "any", Set.of("news")));
        assertFalse(userAndTopic.matches("any", "u1", "any", Set.of()));
        assertFalse(userAndTopic.matches("any", "u2", "any", Set.of("news")));
    }

    @Test
    void holdsACopyOfItsLists() {
        List<String> users = new ArrayList<>(List.of("u1"));
        Target t = new Target(users, null, null, null);
        users.add("u2");
        assertEquals(List.of("u1"), t.userIds());
        assertFalse(t.matches("c", "u2", null, Set.of()));
        assertThrows(UnsupportedOperationException.class, () -> t.userIds().add("u3"));
    }
}
