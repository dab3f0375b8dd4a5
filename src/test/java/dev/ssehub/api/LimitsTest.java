package dev.ssehub.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/** sse.max-clients and sse.max-connections-per-user refuse with problems and Retry-After, before any stream byte. */
@QuarkusTest
@TestProfile(LimitsTest.SmallLimits.class)
class LimitsTest {

    public static class SmallLimits implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("sse.max-clients", "6", "sse.max-connections-per-user", "2");
        }
    }

    @BeforeEach
    void reset() {
        Api.reset();
    }

    @Test
    void perUserAndTotalLimits() {
        List<Api.Opened> open = new ArrayList<>();
        try {
            open.add(Api.open("userId=u1"));
            open.add(Api.open("userId=u1"));
            double rejectedBefore = Api.metric("sse_connections_rejected_total{reason=\"max_connections_per_user\"}");
            given().get("/api/sse/stream?userId=u1").then().statusCode(429)
                    .header("Retry-After", "3")
                    .contentType(startsWith("application/problem+json"))
                    .body("status", equalTo(429))
                    .body("detail", containsString("sse.max-connections-per-user"));
            assertEquals(rejectedBefore + 1, Api.metric("sse_connections_rejected_total{reason=\"max_connections_per_user\"}"));
            open.add(Api.open("userId=u2"));
            open.add(Api.open(""));
            open.add(Api.open(""));
            open.add(Api.open("userId=u3"));
            given().get("/api/sse/stream").then().statusCode(503)
                    .header("Retry-After", "3")
                    .contentType(startsWith("application/problem+json"))
                    .body("status", equalTo(503))
                    .body("detail", containsString("sse.max-clients"));
            given().get("/api/sse/stream?userId=u4").then().statusCode(503);
            assertEquals(2.0, Api.metric("sse_connections_rejected_total{reason=\"max_clients\"}"));
            given().get("/q/health/ready").then().statusCode(503);

            // Existing streams are untouched.
            assertEquals(6, Api.publish("{\"type\":\"still\",\"data\":1}").getInt("delivered"));
            for (Api.Opened o : open) {
                o.client().await("still", Duration.ofSeconds(5));
            }
            // A freed place can be taken again.
            open.remove(0).close();
            Api.eventually(Duration.ofSeconds(5), "place freed", () -> Api.activeConnections() == 5);
            open.add(Api.open("userId=u1"));
        } finally {
            open.forEach(Api.Opened::close);
        }
    }
}
