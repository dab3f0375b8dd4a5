package dev.ssehub.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.SseClient.Frame;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Targeting: AND across target fields, OR within a list, topics by intersection, type filters;
 * {@code delivered} counts exactly the connections reached.
 */
@QuarkusTest
class TargetingTest {

    Api.Opened alice1, alice2, bob, anon;

    @BeforeEach
    void open() {
        Api.reset();
        alice1 = Api.open("userId=alice&sessionId=tab1&topic=orders&topic=news");
        alice2 = Api.open("userId=alice&sessionId=tab2&topic=news");
        bob = Api.open("userId=bob&sessionId=tab3&topic=orders&type=order_update&type=alert");
        anon = Api.open("");
    }

    @AfterEach
    void close() {
        for (Api.Opened o : List.of(alice1, alice2, bob, anon)) {
            o.close();
        }
    }

    /** Publishes, checks delivered, and checks exactly the expected clients got it (and no one else). */
    private void expect(String type, String target, Api.Opened... reached) {
        String body = "{\"type\":\"" + type + "\",\"data\":{\"t\":\"" + type + "\"}" + (target == null ? "" : ",\"target\":" + target) + "}";
        var answer = Api.publish(body);
        assertEquals(reached.length, answer.getInt("delivered"), "delivered for " + body);
        String id = answer.getString("id");
        // A marker broadcast of a type everyone accepts proves each stream has received everything before it.
        String marker = Api.publish("{\"type\":\"alert\",\"data\":\"marker\"}").getString("id");
        for (Api.Opened o : List.of(alice1, alice2, bob, anon)) {
            boolean expected = List.of(reached).contains(o);
            boolean got = false;
            while (true) {
                Frame f = o.client().await(x -> x.id() != null, Duration.ofSeconds(5), "event");
                if (f.id().equals(marker)) {
                    break;
                }
                if (f.id().equals(id)) {
                    got = true;
                }
            }
            assertEquals(expected, got, "client " + o.clientId() + " for " + body);
        }
    }

    @Test
    void userTargetReachesAllOfThatUsersConnectionsOnly() {
        expect("notification", "{\"userIds\":[\"alice\"]}", alice1, alice2);
        expect("notification", "{\"userIds\":[\"alice\",\"nobody\"]}", alice1, alice2);
        expect("order_update", "{\"userIds\":[\"bob\",\"alice\"]}", alice1, alice2, bob);
    }

    @Test
    void sessionClientAndTopicTargets() {
        expect("notification", "{\"sessionIds\":[\"tab2\"]}", alice2);
        expect("notification", "{\"clientIds\":[\"" + alice1.clientId() + "\",\"" + anon.clientId() + "\"]}", alice1, anon);
        expect("order_update", "{\"topics\":[\"orders\"]}", alice1, bob);
        expect("notification", "{\"topics\":[\"news\",\"orders\"]}", alice1, alice2); // bob filters this type out
        expect("order_update", "{\"topics\":[\"nothing\"]}");
    }

    @Test
    void fieldsCombineWithAnd() {
        expect("order_update", "{\"userIds\":[\"alice\"],\"topics\":[\"orders\"]}", alice1);
        expect("order_update", "{\"userIds\":[\"alice\",\"bob\"],\"sessionIds\":[\"tab3\",\"tab2\"]}", alice2, bob);
        expect("order_update", "{\"userIds\":[\"bob\"],\"sessionIds\":[\"tab1\"]}");
        expect("notification", "{\"userIds\":[],\"topics\":[]}", alice1, alice2, anon); // empty lists: broadcast
    }

    @Test
    void broadcastAndTypeFilter() {
        expect("order_update", null, alice1, alice2, bob, anon);
        expect("notification", null, alice1, alice2, anon);
    }

    @Test
    void batchPublishesInOrder() {
        var answers = io.restassured.RestAssured.given().contentType("application/json")
                .body("[{\"type\":\"alert\",\"data\":1},{\"type\":\"alert\",\"data\":2,\"target\":{\"userIds\":[\"bob\"]}},"
                        + "{\"type\":\"alert\",\"data\":3}]")
                .post("/api/sse/events/batch").then().statusCode(202).extract().jsonPath();
        assertEquals(List.of(4, 1, 4), answers.getList("delivered"));
        List<String> ids = answers.getList("id");
        Map<String, String> got = bob.client().drainEvents(Duration.ofMillis(500)).stream()
                .filter(f -> f.id() != null).collect(Collectors.toMap(Frame::id, Frame::data));
        assertEquals(Map.of(ids.get(0), "1", ids.get(1), "2", ids.get(2), "3"), got);
        List<String> anonIds = anon.client().drainEvents(Duration.ofMillis(300)).stream().map(Frame::id).toList();
        assertEquals(List.of(ids.get(0), ids.get(2)), anonIds);
    }
}
