package dev.ssehub.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.quarkus.test.junit.QuarkusTest;

/**
 * Unknown paths answer a problem that points to the stream, the publish endpoint and the docs; "/" is the
 * demo page.
 */
@QuarkusTest
class NotFoundTest {

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({ "GET, /nope", "GET, /index.htm", "GET, /api", "GET, /api/sse/streams", "POST, /api/sse/event",
            "PUT, /api/sse/nope", "GET, /q/nope" })
    void unknownPathPointsToTheApi(String method, String path) {
        given().accept("*/*").when().request(method, path)
                .then().statusCode(404)
                .contentType(startsWith("application/problem+json"))
                .body("type", equalTo("urn:ssehub:problem:not-found"))
                .body("title", equalTo("Not Found"))
                .body("status", equalTo(404))
                .body("detail", allOf(containsString("GET /api/sse/stream"), containsString("POST /api/sse/events"),
                        containsString("/q/openapi"), containsString("docs/sse_api_usage.md")));
    }

    @Test
    void aBrowserOpeningAnUnknownPathGetsTheSameDirections() {
        given().accept("text/html,application/xhtml+xml,*/*;q=0.8").when().get("/nope")
                .then().statusCode(404)
                .contentType(startsWith("application/problem+json"))
                .body("detail", containsString("GET /api/sse/stream"));
    }

    @Test
    void theRootIsTheDemoPage() {
        given().accept("text/html,application/xhtml+xml,*/*;q=0.8").when().get("/")
                .then().statusCode(200)
                .contentType(startsWith("text/html"))
                .body(containsString("sse-hub.js"));
    }

    @Test
    void unknownClientIdKeepsItsOwnDetail() {
        given().when().delete("/api/sse/connections/no-such-client")
                .then().statusCode(404)
                .contentType(startsWith("application/problem+json"))
                .body("detail", allOf(containsString("no-such-client"), not(containsString("/q/openapi"))));
    }

    @Test
    void theDocsItPointsToAreServed() {
        given().when().get("/q/openapi").then().statusCode(200);
    }
}
