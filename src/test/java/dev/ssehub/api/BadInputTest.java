package dev.ssehub.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.ssehub.support.Api;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;

/** Bad input gets its status and an application/problem+json body, and an open stream is unaffected. */
@QuarkusTest
class BadInputTest {

    @BeforeEach
    void reset() {
        Api.reset();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "malformed JSON|{\"type\": \"x\", |400|Malformed JSON",
            "empty body|   |400|empty",
            "missing type|{\"data\": 1}|400|Missing field type",
            "type with space|{\"type\": \"a b\"}|400|Invalid type",
            "type with LF|{\"type\": \"evil\\nid: 1\"}|400|Invalid type",
            "type with CR|{\"type\": \"evil\\r\"}|400|Invalid type",
            "type too long|{\"type\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}|400|Invalid type",
            "type not a string|{\"type\": 5}|400|Invalid type",
            "unknown field|{\"type\": \"x\", \"targets\": {}}|400|Unknown field targets",
            "target not an object|{\"type\": \"x\", \"target\": []}|400|Invalid target",
            "target list of numbers|{\"type\": \"x\", \"target\": {\"userIds\": [1]}}|400|target.userIds",
            "idempotency key with LF|{\"type\": \"x\", \"id\": \"a\\nb\"}|400|Invalid id",
            "not an object|[1, 2]|400|Expected a JSON object",
    })
    void badPublishIsRefusedAndStreamsGoOn(String name, String body, int status, String detail) {
        try (Api.Opened o = Api.open("")) {
            given().contentType(ContentType.JSON).body(body == null ? "" : body)
                    .when().post("/api/sse/events")
                    .then().statusCode(status)
                    .contentType(startsWith("application/problem+json"))
                    .body("status", equalTo(status))
                    .body("type", startsWith("urn:ssehub:problem:"))
                    .body("title", org.hamcrest.Matchers.notNullValue())
                    .body("detail", containsString(detail));
            String id = Api.publish("{\"type\":\"still_ok\",\"data\":1}").getString("id");
            assertEquals(id, o.client().await("still_ok", Duration.ofSeconds(5)).id());
        }
    }

    @Test
    void oversizedDataIs413() {
        try (Api.Opened o = Api.open("")) {
            String big = "x".repeat(65536); // encoded with its quotes: 65538 bytes, over sse.max-event-bytes
            given().contentType(ContentType.JSON).body("{\"type\":\"big\",\"data\":\"" + big + "\"}")
                    .when().post("/api/sse/events")
                    .then().statusCode(413)
                    .contentType(startsWith("application/problem+json"))
                    .body("status", equalTo(413))
                    .body("detail", containsString("sse.max-event-bytes"));
            // Exactly at the limit is fine.
            String fits = "x".repeat(65534);
            Api.publish("{\"type\":\"fits\",\"data\":\"" + fits + "\"}");
            assertEquals(65536, o.client().await("fits", Duration.ofSeconds(5)).data().length());
        }
    }

    @Test
    void wrongContentTypeAndUnknownPathAreProblems() {
        given().contentType(ContentType.TEXT).body("hello").when().post("/api/sse/events")
                .then().statusCode(415).contentType(startsWith("application/problem+json")).body("status", equalTo(415));
        given().when().get("/api/sse/nothing-here")
                .then().statusCode(404).contentType(startsWith("application/problem+json"));
    }

    @Test
    void badStreamParametersAre400BeforeAnyStreamBytes() {
        for (String q : new String[] { "lastEventId=abc", "lastEventId=12-x", "type=a%20b", "topic=%0d%0a", "userId=a%20b" }) {
            given().urlEncodingEnabled(false).when().get("/api/sse/stream?" + q)
                    .then().statusCode(400).contentType(startsWith("application/problem+json"))
                    .body("status", equalTo(400));
        }
        given().header("Last-Event-ID", "not-an-id").when().get("/api/sse/stream")
                .then().statusCode(400).body("detail", containsString("Last-Event-ID"));
    }

    @Test
    void badBatchPublishesNothing() {
        try (Api.Opened o = Api.open("")) {
            given().contentType(ContentType.JSON).body("[{\"type\":\"ok\"},{\"type\":\"bad type\"}]")
                    .when().post("/api/sse/events/batch")
                    .then().statusCode(400).body("detail", containsString("[1].type"));
            assertEquals(0, o.client().drainEvents(Duration.ofMillis(300)).size());
        }
    }
}
