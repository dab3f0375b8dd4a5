package dev.ssehub.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import io.quarkus.test.junit.QuarkusTest;

/** Probes answer, and the Prometheus figures follow connections and events. */
@QuarkusTest
class HealthMetricsTest {

    @BeforeEach
    void reset() {
        Api.reset();
    }

    @Test
    void healthProbesAnswer() {
        given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"))
                .body("checks.name", hasItem("sse-heartbeats"));
        given().when().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"))
                .body("checks.name", hasItem("sse-capacity"))
                .body("checks.find { it.name == 'sse-capacity' }.data.maxClients", equalTo(1000));
    }

    @Test
    void metricsFollowConnectionsAndEvents() {
        double opened = Api.metric("sse_connections_opened_total");
        double published = Api.metric("sse_events_published_total");
        double delivered = Api.metric("sse_events_delivered_total");
        double heartbeats = Api.metric("sse_heartbeats_sent_total");
        assertEquals(0.0, Api.metric("sse_connections_active"));
        assertEquals(1.0, Api.metric("sse_backplane_up"));
        try (Api.Opened a = Api.open("userId=m1"); Api.Opened b = Api.open("userId=m2")) {
            assertEquals(2.0, Api.metric("sse_connections_active"));
            assertEquals(opened + 2, Api.metric("sse_connections_opened_total"));
            given().when().get("/q/health/ready").then()
                    .body("checks.find { it.name == 'sse-capacity' }.data.activeConnections", equalTo(2));
            Api.publish("{\"type\":\"m\",\"data\":{}}");
            a.client().await("m", Duration.ofSeconds(5));
            b.client().await("m", Duration.ofSeconds(5));
            assertEquals(published + 1, Api.metric("sse_events_published_total"));
            Api.eventually(Duration.ofSeconds(5), "two deliveries counted",
                    () -> Api.metric("sse_events_delivered_total") == delivered + 2);
            assertTrue(Api.metric("sse_delivery_latency_seconds_count") >= 2);
            a.client().await("heartbeat", Duration.ofSeconds(3));
            Api.eventually(Duration.ofSeconds(3), "heartbeats counted",
                    () -> Api.metric("sse_heartbeats_sent_total") > heartbeats);
            var stats = Api.stats();
            assertEquals(2, stats.getInt("activeConnections"));
            assertEquals(2, stats.getInt("activeUsers"));
            assertEquals(1, given().queryParam("userId", "m1").get("/api/sse/stats").jsonPath().getInt("userConnections"));
        }
        Api.eventually(Duration.ofSeconds(5), "gauge back to 0", () -> Api.metric("sse_connections_active") == 0.0);
        assertTrue(Api.metric("sse_connections_closed_total{reason=\"client\"}") >= 2);
        for (String name : new String[] { "sse_connections_rejected_total{reason=\"max_clients\"}",
                "sse_events_dropped_total{reason=\"slow_consumer\"}", "sse_replayed_events_total" }) {
            assertTrue(!Double.isNaN(Api.metric(name)), name + " is exported");
        }
    }
}
