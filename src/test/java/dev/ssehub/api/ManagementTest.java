package dev.ssehub.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;

/** Subscriptions, the connection list, closing a connection, and management errors. */
@QuarkusTest
class ManagementTest {

    @BeforeEach
    void reset() {
        Api.reset();
    }

    @Test
    void subscriptionChangeAppliesToTheNextEvent() {
        try (Api.Opened o = Api.open("userId=sub&topic=a"); Api.Opened other = Api.open("")) {
            assertEquals(1, Api.publish("{\"type\":\"x\",\"data\":1,\"target\":{\"topics\":[\"a\"]}}").getInt("delivered"));
            JsonPath now = given().contentType(ContentType.JSON).body("{\"add\":[\"b\",\"c\"],\"remove\":[\"a\"]}")
                    .post("/api/sse/connections/" + o.clientId() + "/subscriptions")
                    .then().statusCode(200).extract().jsonPath();
            assertEquals(List.of("b", "c"), now.getList("topics"));
            assertEquals(0, Api.publish("{\"type\":\"x\",\"data\":2,\"target\":{\"topics\":[\"a\"]}}").getInt("delivered"));
            assertEquals(1, Api.publish("{\"type\":\"x\",\"data\":3,\"target\":{\"topics\":[\"c\"]}}").getInt("delivered"));
            // Types filter, then remove the last topics: topic events stop, broadcasts of wanted types go on.
            given().contentType(ContentType.JSON).body("{\"remove\":[\"b\",\"c\"],\"types\":[\"x\"]}")
                    .post("/api/sse/connections/" + o.clientId() + "/subscriptions")
                    .then().statusCode(200).body("topics.size()", equalTo(0)).body("types", equalTo(List.of("x")));
            assertEquals(0, Api.publish("{\"type\":\"x\",\"data\":4,\"target\":{\"topics\":[\"c\"]}}").getInt("delivered"));
            assertEquals(1, Api.publish("{\"type\":\"y\",\"data\":5}").getInt("delivered")); // only "other"
            assertEquals(2, Api.publish("{\"type\":\"x\",\"data\":6}").getInt("delivered"));
            List<String> data = o.client().drainEvents(Duration.ofMillis(500)).stream().map(f -> f.data()).toList();
            assertEquals(List.of("1", "3", "6"), data);
            given().get("/api/sse/connections?topic=c").then().body("total", equalTo(0));
        }
    }

    @Test
    void listFiltersAndPages() {
        try (Api.Opened a = Api.open("userId=lu1&topic=t1"); Api.Opened b = Api.open("userId=lu1&topic=t2");
                Api.Opened c = Api.open("userId=lu2&topic=t1")) {
            given().get("/api/sse/connections").then().statusCode(200).body("total", equalTo(3))
                    .body("connections.size()", equalTo(3))
                    .body("connections[0].clientId", equalTo(a.clientId()))
                    .body("connections[0].eventsSent", equalTo(0))
                    .body("connections[0].queued", equalTo(0))
                    .body("connections[0].topics", equalTo(List.of("t1")));
            given().get("/api/sse/connections?userId=lu1").then().body("total", equalTo(2));
            given().get("/api/sse/connections?topic=t1").then().body("total", equalTo(2));
            given().get("/api/sse/connections?userId=lu1&topic=t1").then().body("connections.clientId",
                    equalTo(List.of(a.clientId())));
            given().get("/api/sse/connections?limit=1&offset=1").then().body("total", equalTo(3))
                    .body("connections.size()", equalTo(1)).body("connections[0].clientId", equalTo(b.clientId()));
            Api.publish("{\"type\":\"x\",\"data\":1,\"target\":{\"userIds\":[\"lu2\"]}}");
            c.client().await("x", Duration.ofSeconds(5));
            Api.eventually(Duration.ofSeconds(5), "counter", () -> given().get("/api/sse/connections?userId=lu2")
                    .jsonPath().getInt("connections[0].eventsSent") == 1);
            assertTrue(given().get("/api/sse/connections?userId=lu2").jsonPath().getString("connections[0].lastEventId")
                    .matches("\\d+-\\d+"));
        }
    }

    @Test
    void deleteClosesTheStream() {
        try (Api.Opened o = Api.open("userId=del")) {
            given().delete("/api/sse/connections/" + o.clientId()).then().statusCode(204);
            assertTrue(o.client().awaitEnd(Duration.ofSeconds(5)), "stream ended");
            given().get("/api/sse/connections?userId=del").then().body("total", equalTo(0));
            given().delete("/api/sse/connections/" + o.clientId()).then().statusCode(404)
                    .contentType(startsWith("application/problem+json"));
            Api.eventually(Duration.ofSeconds(3), "closed by admin counted",
                    () -> Api.metric("sse_connections_closed_total{reason=\"admin\"}") >= 1);
        }
    }

    @Test
    void unknownClientIs404AndBadInputIs400() {
        given().contentType(ContentType.JSON).body("{\"add\":[\"a\"]}").post("/api/sse/connections/nope/subscriptions")
                .then().statusCode(404).contentType(startsWith("application/problem+json")).body("status", equalTo(404));
        given().delete("/api/sse/connections/nope").then().statusCode(404);
        for (String q : new String[] { "limit=0", "limit=1001", "limit=x", "offset=-1", "userId=a%20b" }) {
            given().urlEncodingEnabled(false).get("/api/sse/connections?" + q).then().statusCode(400)
                    .contentType(startsWith("application/problem+json"));
        }
        try (Api.Opened o = Api.open("")) {
            for (String body : new String[] { "{\"add\":\"a\"}", "{\"add\":[\"a b\"]}", "{\"types\":[\"bad type\"]}",
                    "{\"drop\":[]}", "[]", "{" }) {
                given().contentType(ContentType.JSON).body(body).post("/api/sse/connections/" + o.clientId() + "/subscriptions")
                        .then().statusCode(400).body("detail", org.hamcrest.Matchers.notNullValue());
            }
            given().contentType(ContentType.JSON).body("{\"add\":[\"ok\"]}")
                    .post("/api/sse/connections/" + o.clientId() + "/subscriptions").then().statusCode(200)
                    .body("clientId", containsString(o.clientId()));
        }
    }
}
