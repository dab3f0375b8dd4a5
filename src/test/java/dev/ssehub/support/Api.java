package dev.ssehub.support;

import static io.restassured.RestAssured.given;

import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;

import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;

/** Small HTTP helpers over RestAssured for the tests. */
public final class Api {

    private Api() {
    }

    /** The plain HTTP port of the application under test ({@code -Dquarkus.http.test-port}, default 8081). */
    public static int port() {
        return Integer.getInteger("quarkus.http.test-port", 8081);
    }

    /** The HTTPS port when a test profile turns TLS on ({@code -Dquarkus.http.test-ssl-port}, default 8444). */
    public static int tlsPort() {
        return Integer.getInteger("quarkus.http.test-ssl-port", 8444);
    }

    public static String base() {
        return "http://127.0.0.1:" + port();
    }

    public static String stream(String query) {
        return base() + "/api/sse/stream" + (query == null || query.isEmpty() ? "" : "?" + query);
    }

    /** Publishes and expects 202; returns the answer. */
    public static JsonPath publish(String json) {
        return given().contentType(ContentType.JSON).body(json).when().post("/api/sse/events")
                .then().statusCode(202).extract().jsonPath();
    }

    /** Publishes a JSON array of events and expects 202; returns the answer (one entry per event). */
    public static JsonPath publishBatch(String json) {
        return given().contentType(ContentType.JSON).body(json).when().post("/api/sse/events/batch")
                .then().statusCode(202).extract().jsonPath();
    }

    public static void reset() {
        given().when().post("/api/sse/reset").then().statusCode(204);
    }

    /** A request carrying {@code Authorization: Bearer <token>}. */
    public static RequestSpecification as(String token) {
        return given().header("Authorization", "Bearer " + token);
    }

    /** The dev reset with authentication on (it needs an admin token). */
    public static void resetAs(String adminToken) {
        as(adminToken).when().post("/api/sse/reset").then().statusCode(204);
    }

    /** Publishes with this token and expects 202; returns the answer. */
    public static JsonPath publishAs(String token, String json) {
        return as(token).contentType(ContentType.JSON).body(json).when().post("/api/sse/events")
                .then().statusCode(202).extract().jsonPath();
    }

    /** Opens a stream with this token in the Authorization header and waits for its first frame. */
    public static Opened openAs(String token, String query) {
        return open(query, null, Map.of("Authorization", "Bearer " + token));
    }

    /** Opens a stream with these headers and waits for its first frame. */
    public static Opened open(String query, String lastEventId, Map<String, String> headers) {
        SseClient c = SseClient.connect(stream(query), lastEventId, headers);
        if (c.status() != 200) {
            c.close();
            throw new AssertionError("stream refused with " + c.status());
        }
        SseClient.Frame f = c.await("connection_established", Duration.ofSeconds(5));
        return new Opened(c, JsonPath.from(f.data()).getString("clientId"), JsonPath.from(f.data()));
    }

    public static JsonPath stats() {
        return given().when().get("/api/sse/stats").then().statusCode(200).extract().jsonPath();
    }

    public static int activeConnections() {
        return stats().getInt("activeConnections");
    }

    /** Open streams, asked with this token (authentication on). */
    public static int activeConnections(String token) {
        return as(token).when().get("/api/sse/stats").then().statusCode(200).extract().jsonPath().getInt("activeConnections");
    }

    /** Polls until the condition holds or fails after the timeout. */
    public static void eventually(Duration timeout, String what, BooleanSupplier condition) {
        eventually(timeout, Duration.ofMillis(20), what, condition);
    }

    /** Polls every {@code poll} (unit tests of the core wait for in-process work: 1 ms) until the condition holds. */
    public static void eventually(Duration timeout, Duration poll, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            try {
                Thread.sleep(poll.toMillis(), poll.toNanosPart() % 1_000_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }

    /** Connects and waits for the first frame; returns the client and its client id. */
    public static Opened open(String query) {
        SseClient c = SseClient.connect(stream(query));
        SseClient.Frame f = c.await("connection_established", Duration.ofSeconds(5));
        return new Opened(c, JsonPath.from(f.data()).getString("clientId"), JsonPath.from(f.data()));
    }

    /** An open stream, its client id and the data of its {@code connection_established} frame. */
    public record Opened(SseClient client, String clientId, JsonPath established) implements AutoCloseable {
        @Override
        public void close() {
            client.close();
        }
    }

    /** The value of a Prometheus sample line, e.g. {@code sse_connections_active}, or NaN when absent. */
    public static double metric(String sample) {
        String body = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        for (String line : body.split("\n")) {
            if (line.startsWith(sample + " ")) {
                return Double.parseDouble(line.substring(sample.length() + 1).trim());
            }
        }
        return Double.NaN;
    }
}
