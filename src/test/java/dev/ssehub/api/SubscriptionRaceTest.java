package dev.ssehub.api;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.SseClient;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;

/**
 * Two clients change one stream's subscription at the same time, 1,000 times each, to two different
 * states, while events are published that only a half-applied change (the topics of one state with the
 * type filter of the other, or topics of both) would let through. None may arrive, and the stream ends
 * in one of the two requested states.
 */
@QuarkusTest
class SubscriptionRaceTest {

    private static final String STATE_A = "{\"add\":[\"a1\",\"a2\"],\"remove\":[\"b1\",\"b2\"],\"types\":[\"ta\"]}";
    private static final String STATE_B = "{\"add\":[\"b1\",\"b2\"],\"remove\":[\"a1\",\"a2\"],\"types\":[\"tb\"]}";

    @BeforeEach
    void reset() {
        Api.reset();
    }

    @Test
    void concurrentChangesApplyAsWholes() throws Exception {
        try (Api.Opened o = Api.open("topic=a1&topic=a2&type=ta")) {
            String path = "/api/sse/connections/" + o.clientId() + "/subscriptions";
            AtomicBoolean changing = new AtomicBoolean(true);
            ConcurrentLinkedQueue<String> badAnswers = new ConcurrentLinkedQueue<>();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> changers = new ArrayList<>();
            for (String body : List.of(STATE_A, STATE_B)) {
                Thread t = new Thread(() -> {
                    await(start);
                    for (int i = 0; i < 1000; i++) {
                        JsonPath answer = JsonPath.from(post(path, body, 200));
                        String state = state(answer.getList("topics"), answer.getList("types"));
                        if (!state.equals("A") && !state.equals("B")) {
                            badAnswers.add(answer.prettify());
                        }
                    }
                }, "changer");
                t.start();
                changers.add(t);
            }
            // Events only a half-applied change would deliver, and, to show the stream is live, events that
            // either whole state delivers.
            AtomicInteger straight = new AtomicInteger();
            Thread publisher = new Thread(() -> {
                await(start);
                while (changing.get()) {
                    post("/api/sse/events/batch", "[{\"type\":\"tb\",\"data\":\"cross\",\"target\":{\"topics\":[\"a1\"]}},"
                            + "{\"type\":\"ta\",\"data\":\"cross\",\"target\":{\"topics\":[\"b2\"]}},"
                            + "{\"type\":\"ta\",\"data\":\"straight\",\"target\":{\"topics\":[\"a2\"]}},"
                            + "{\"type\":\"tb\",\"data\":\"straight\",\"target\":{\"topics\":[\"b1\"]}}]", 202);
                    straight.addAndGet(2);
                }
            }, "publisher");
            publisher.start();
            start.countDown();
            for (Thread t : changers) {
                t.join(120_000);
            }
            changing.set(false);
            publisher.join(30_000);

            JsonPath view = given().queryParam("limit", 10).get("/api/sse/connections").then().statusCode(200)
                    .extract().jsonPath();
            String finalState = state(view.getList("connections[0].topics"), view.getList("connections[0].types"));
            assertTrue(finalState.equals("A") || finalState.equals("B"), "final state " + view.prettify());
            assertTrue(badAnswers.isEmpty(), "answers with a half-applied state: " + badAnswers);

            List<SseClient.Frame> got = o.client().drainEvents(Duration.ofSeconds(1));
            List<String> cross = got.stream().filter(f -> "\"cross\"".equals(f.data())).map(SseClient.Frame::lines)
                    .map(String::valueOf).toList();
            assertTrue(cross.isEmpty(), cross.size() + " events delivered under a half-applied change, e.g. "
                    + cross.subList(0, Math.min(3, cross.size())));
            long delivered = got.stream().filter(f -> "\"straight\"".equals(f.data())).count();
            assertTrue(delivered > 0, "the stream received events meanwhile (" + straight.get() + " sent)");
        }
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** POSTs JSON and returns the body; fails on another status. */
    private static String post(String path, String json, int status) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(Api.base() + path))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(status, r.statusCode(), r.body());
            return r.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** "A" or "B" when the topics and types are exactly one requested state, else a description. */
    private static String state(List<Object> topics, List<Object> types) {
        String s = topics + " " + types;
        if (s.equals("[a1, a2] [ta]")) {
            return "A";
        }
        if (s.equals("[b1, b2] [tb]")) {
            return "B";
        }
        return s;
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
