package dev.ssehub;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import dev.ssehub.support.AuthOn;
import dev.ssehub.support.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;

/**
 * The generated OpenAPI description with authentication on: every operation answers 401 without a token,
 * and 403 for a token without the role or with a topic outside its {@code sse_topics}, where it documents 403;
 * the operations on one stream answer 404 for a stream that is not there (their 403, another user's stream,
 * is IsolationTest's). Every answer is documented for its operation.
 */
@QuarkusTest
@TestProfile(AuthOn.class)
class OpenApiAuthDocTest {

    @Test
    void securityAndDevelopmentRefusalsAreDocumentedForEveryOperation() {
        OpenApiDocTest.Spec spec = OpenApiDocTest.Spec.fetch();
        String user = Tokens.user("alice").topics("a").sign();
        Map<String, Set<String>> seen = new TreeMap<>();
        for (String op : spec.operations.keySet()) {
            String method = op.substring(0, op.indexOf(' '));
            String path = op.substring(op.indexOf(' ') + 1).replace("{clientId}", "someone-elses");
            boolean body = spec.operations.get(op).has("requestBody");
            String json = op.endsWith("/batch") ? "[{\"type\":\"t\"}]" : op.endsWith("/events") ? "{\"type\":\"t\"}" : "{}";
            int anonymous = request(given(), method, path, body ? json : null).statusCode();
            assertEquals(401, anonymous, op + " without a token");
            record(seen, spec, op, anonymous);
            // A valid token without a role: publishing, listing every stream and the dev endpoints need one.
            String forbiddenPath = op.endsWith(" /api/sse/stream") ? "/api/sse/stream?topic=b" : path;
            int plain = request(given().header("Authorization", "Bearer " + user), method, forbiddenPath,
                    body ? json : null).statusCode();
            record(seen, spec, op, plain);
        }
        for (String op : spec.operations.keySet()) {
            assertTrue(seen.get(op).contains("401"), op);
            if (spec.statuses(op).contains("403")) {
                boolean ownOnly = op.contains("{clientId}");
                assertTrue(seen.get(op).contains("403") || ownOnly && seen.get(op).contains("404"),
                        op + " documents 403; seen " + seen.get(op));
            }
        }
        assertTrue(seen.get("GET /api/sse/stream").contains("403"), "a topic outside sse_topics: " + seen);
        assertTrue(seen.get("POST /api/sse/events").contains("403"), "publishing without the role: " + seen);
    }

    private static Response request(RequestSpecification r, String method, String path, String json) {
        return json == null ? r.request(method, path) : r.contentType(ContentType.JSON).body(json).request(method, path);
    }

    private static void record(Map<String, Set<String>> seen, OpenApiDocTest.Spec spec, String op, int status) {
        String s = String.valueOf(status);
        assertTrue(spec.statuses(op).contains(s), op + " answered " + s + ", documented: " + spec.statuses(op));
        seen.computeIfAbsent(op, k -> new TreeSet<>()).add(s);
    }
}
