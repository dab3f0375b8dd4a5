package dev.ssehub.security;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.AuthOn;
import dev.ssehub.support.SseClient;
import dev.ssehub.support.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * Two users with two sessions each hold four streams (the session from each token's sid), and a third user
 * claims one of alice's sessions through the sessionId parameter. Targeted, broadcast and topic events
 * and the replays after a reconnection land exactly where they should: the full received streams are
 * compared, not counts.
 */
@QuarkusTest
@TestProfile(AuthOn.class)
class IsolationTest {

    record Published(String id, String type, String data) {
        @Override
        public String toString() {
            return id + " " + type + " " + data;
        }
    }

    @BeforeEach
    void reset() {
        Api.resetAs(Tokens.admin().sign());
    }

    @Test
    void everyEventLandsExactlyWhereItShouldLiveAndOnReplay() {
        String publisher = Tokens.publisher().sign();
        Map<String, String> tokens = new LinkedHashMap<>();
        tokens.put("A1", Tokens.user("alice").sid("a1").sign());
        tokens.put("A2", Tokens.user("alice").sid("a2").sign());
        tokens.put("B1", Tokens.user("bob").sid("b1").sign());
        tokens.put("B2", Tokens.user("bob").sid("b2").sign());
        // No sid: the sessionId parameter counts, but only within mallory's own user; userId is ignored.
        tokens.put("M", Tokens.user("mallory").sign());
        Map<String, Api.Opened> streams = new LinkedHashMap<>();
        try {
            tokens.forEach((name, token) -> streams.put(name,
                    Api.openAs(token, name.equals("M") ? "topic=news&sessionId=a1&userId=alice" : "topic=news")));
            assertEquals("a1", streams.get("M").established().getString("sessionId"));
            assertEquals("mallory", streams.get("M").established().getString("userId"));

            String b1 = streams.get("B1").clientId();
            String[] targets = {
                    null,                                                   // e1 broadcast
                    "{\"userIds\":[\"alice\"]}",                            // e2
                    "{\"userIds\":[\"bob\"]}",                              // e3
                    "{\"sessionIds\":[\"a1\"]}",                            // e4 alice's session a1, not mallory's claim
                    "{\"sessionIds\":[\"b2\"]}",                            // e5
                    "{\"userIds\":[\"alice\"],\"sessionIds\":[\"a2\"]}",    // e6
                    "{\"clientIds\":[\"" + b1 + "\"]}",                     // e7
                    "{\"topics\":[\"news\"]}",                              // e8
                    "{\"userIds\":[\"mallory\"],\"sessionIds\":[\"a1\"]}",  // e9 mallory's own claimed session
                    "{\"userIds\":[\"alice\",\"bob\"],\"sessionIds\":[\"a1\",\"b1\"]}", // e10
            };
            List<Published> events = new ArrayList<>();
            for (int i = 0; i < targets.length; i++) {
                String type = "e" + (i + 1);
                String data = "{\"n\":" + (i + 1) + "}";
                String body = "{\"type\":\"" + type + "\",\"data\":" + data
                        + (targets[i] == null ? "" : ",\"target\":" + targets[i]) + "}";
                events.add(new Published(Api.publishAs(publisher, body).getString("id"), type, data));
            }
            Map<String, List<Published>> expected = new LinkedHashMap<>();
            expected.put("A1", pick(events, 1, 2, 4, 8, 10));
            expected.put("A2", pick(events, 1, 2, 6, 8));
            expected.put("B1", pick(events, 1, 3, 7, 8, 10));
            expected.put("B2", pick(events, 1, 3, 5, 8));
            expected.put("M", pick(events, 1, 8, 9));
            for (String name : tokens.keySet()) {
                assertEquals(expected.get(name), received(streams.get(name).client(), expected.get(name).size()),
                        "live stream " + name);
            }

            // Every one reconnects after its first event (a fresh token, Last-Event-ID): the replay holds
            // exactly its own events after that id, then it goes on live.
            streams.values().forEach(Api.Opened::close);
            // (A reconnection is a new stream with a new client id: e7, targeted at B1's old client id, stays behind.)
            expected.put("B1", pick(events, 1, 3, 8, 10));
            for (String name : tokens.keySet()) {
                List<Published> mine = expected.get(name);
                try (Api.Opened again = Api.open(name.equals("M") ? "topic=news&sessionId=a1&userId=alice" : "topic=news",
                        mine.get(0).id(), Map.of("Authorization", "Bearer " + tokens.get(name)))) {
                    assertEquals(mine.subList(1, mine.size()), received(again.client(), mine.size() - 1), "replay of " + name);
                }
            }
            // Resuming from before everything changes nothing: a stream replays only its own user's events.
            try (Api.Opened again = Api.open("topic=news", "0-0",
                    Map.of("Authorization", "Bearer " + Tokens.user("bob").sid("b2").sign()))) {
                assertEquals(expected.get("B2"), received(again.client(), expected.get("B2").size()), "replay of B2 from the start");
            }
        } finally {
            streams.values().forEach(Api.Opened::close);
        }
    }

    private static List<Published> pick(List<Published> events, int... numbers) {
        List<Published> out = new ArrayList<>();
        for (int n : numbers) {
            out.add(events.get(n - 1));
        }
        return out;
    }

    /** The application events of the stream: the expected number, then nothing more for a while. */
    private static List<Published> received(SseClient client, int expected) {
        List<Published> got = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (got.size() < expected && System.nanoTime() < deadline) {
            SseClient.Frame f = client.next(Duration.ofMillis(100));
            if (f != null && f.id() != null) {
                got.add(new Published(f.id(), f.event(), f.data()));
            }
        }
        for (SseClient.Frame f : client.drainEvents(Duration.ofMillis(400))) {
            got.add(new Published(f.id(), f.event(), f.data()));
        }
        return got;
    }
}
