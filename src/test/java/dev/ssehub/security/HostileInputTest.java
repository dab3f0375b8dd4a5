package dev.ssehub.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ssehub.support.Api;
import dev.ssehub.support.AuthOn;
import dev.ssehub.support.SseClient;
import dev.ssehub.support.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * Thousands of hostile requests, generated from a logged seed (rerun one with {@code -Dhostile.seed=N}):
 * malformed and deeply nested JSON, huge bodies, control characters, CR/LF, NUL and U+2028 in every string
 * field, wrong types, unknown fields, wrong content types, bad tokens in every place, hostile stream
 * queries and management calls. No answer is a 500, every 4xx is problem+json that echoes no token, the
 * service stays healthy, and three streams open through it all receive only frames that parse.
 */
@QuarkusTest
@TestProfile(AuthOn.class)
class HostileInputTest {

    static final int REQUESTS = 2400;
    static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern EVENT_ID = Pattern.compile("[0-9]+-[0-9]+");
    /** Characters that must never break a frame, a log line or a parser. */
    static final String[] NASTY = { "\r", "\n", "\r\n", "\u0000", "\u2028", "\u2029", "\u0085", "\t", "\u001b[31m",
            "\"", "\\", "data: x\n\nid: 9-9\n\n", "%0d%0a", "\ud83d\ude00", "\ufeff", "<script>", "'; DROP", "${jndi:x}",
            " ", "" };

    final Random random;
    final long seed;
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    final String publisher = Tokens.publisher().sign();
    final String admin = Tokens.admin().sign();
    final String user = Tokens.user("hostile-user").sign();
    final List<String> badTokens = List.of("x", "Bearer", "a.b.c", "....", "e30.e30.e30", "\u00e9\u00e8",
            Tokens.user("x").badSignature().sign(), Tokens.user("x").issuer("https://evil").sign(),
            Tokens.user("x").expiresAt(java.time.Instant.now().minusSeconds(600)).sign(),
            Tokens.user("bad id with spaces").sign(), "A".repeat(4000));

    HostileInputTest() {
        seed = Long.getLong("hostile.seed", System.nanoTime());
        random = new Random(seed);
    }

    @Test
    void hostileRequestsGetProblemsAndHarmNothing() throws Exception {
        System.out.println("HostileInputTest seed: " + seed + " (rerun with -Dhostile.seed=" + seed + ")");
        Api.resetAs(admin);
        List<SseClient> streams = List.of(
                SseClient.connect(Api.stream("topic=a"), null, Map.of("Authorization", "Bearer " + Tokens.user("u1").sign())),
                SseClient.connect(Api.stream("access_token=" + Tokens.user("u2").sid("s2").sign()), null, Map.of()),
                SseClient.connect(Api.stream("topic=b&type=hostile"), null,
                        Map.of("Cookie", "sse_token=" + Tokens.user("u3").sign())));
        for (SseClient s : streams) {
            assertEquals(200, s.status());
            s.await("connection_established", Duration.ofSeconds(5));
        }
        // The management calls aim at a fourth stream (a DELETE may close it).
        Api.Opened victim = Api.openAs(Tokens.user("hostile-user").sign(), "topic=victim");
        String clientId = victim.clientId();
        List<Supplier<Attempt>> kinds = List.of(this::publishBody, this::batchBody, this::wrongContentType, this::badHeaders,
                this::streamQuery, this::management, this::publishBody, this::publishBody);
        Map<Integer, Integer> statuses = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        long started = System.nanoTime();
        int retries = 0;
        final String target = clientId;
        for (int i = 0; i < REQUESTS; i++) {
            Attempt a = kinds.get(random.nextInt(kinds.size())).get();
            if (a.path().contains("{clientId}")) {
                a = a.withPath(a.path().replace("{clientId}", random.nextBoolean() ? target : "no-such-stream"));
            }
            Outcome o;
            try {
                o = send(a);
            } catch (java.io.IOException e) {
                // The client may have reused a connection the server closed after its previous answer (a
                // framework refusal closes the connection): once more, on a fresh one.
                try {
                    o = send(a);
                    retries++;
                } catch (java.io.IOException again) {
                    problems.add("#" + i + " " + a.describe() + " -> no answer: " + again);
                    continue;
                }
            }
            statuses.merge(o.status, 1, Integer::sum);
            String what = "#" + i + " " + a.describe() + " -> " + o.status;
            if (o.status >= 500) {
                problems.add(what + " " + o.body);
            } else if (o.status >= 400) {
                if (!o.contentType.startsWith("application/problem+json")) {
                    problems.add(what + ": content type " + o.contentType + " body " + o.body);
                } else {
                    JsonNode p = JSON.readTree(o.body);
                    if (p.path("status").asInt() != o.status || !p.path("type").asText().startsWith("urn:ssehub:problem:")
                            || !p.hasNonNull("title") || !p.hasNonNull("detail")) {
                        problems.add(what + ": problem " + o.body);
                    }
                }
                for (String t : a.tokens()) {
                    if (t.length() > 8 && o.body.contains(t)) {
                        problems.add(what + ": the answer echoes a token");
                    }
                }
            }
            if (problems.size() > 20) {
                break;
            }
        }
        System.out.println("HostileInputTest: " + REQUESTS + " requests in "
                + Duration.ofNanos(System.nanoTime() - started).toMillis() + " ms, statuses " + statuses + ", " + retries
                + " sent twice after a closed connection");
        assertTrue(problems.isEmpty(), "seed " + seed + ":\n" + String.join("\n", problems));
        assertTrue(statuses.keySet().stream().anyMatch(s -> s == 202), "some hostile-looking publishes are valid");

        // The service is healthy and the three streams still work; every frame they got parses.
        assertEquals(200, send(new Attempt("GET", "/q/health/ready", null, null, Map.of(), List.of())).status);
        assertEquals(200, send(new Attempt("GET", "/q/health/live", null, null, Map.of(), List.of())).status);
        String last = Api.publishAs(publisher, "{\"type\":\"hostile\",\"data\":\"the end\"}").getString("id");
        int frames = 0;
        for (SseClient s : streams) {
            assertFalse(s.ended(), "stream still open (seed " + seed + ")");
            while (true) {
                SseClient.Frame f = s.next(Duration.ofSeconds(10));
                assertTrue(f != null, "the last event reaches every stream (seed " + seed + ")");
                frames++;
                if (f.isComment()) {
                    continue;
                }
                assertTrue(f.event() != null && f.event().matches("[A-Za-z0-9_.:-]{1,64}"), "event name: " + f.lines());
                JSON.readTree(f.data()); // throws if not JSON
                assertTrue(f.id() == null || EVENT_ID.matcher(f.id()).matches(), "id: " + f.lines());
                assertTrue(f.lines().stream().allMatch(l -> l.startsWith("id: ") || l.startsWith("event: ")
                        || l.startsWith("data: ") || l.startsWith("retry: ")), "fields: " + f.lines());
                if (last.equals(f.id())) {
                    break;
                }
            }
            s.close();
        }
        victim.close();
        System.out.println("HostileInputTest: " + frames + " frames checked on 3 streams");
    }

    record Attempt(String method, String path, String contentType, byte[] body, Map<String, String> headers,
            List<String> tokens) {
        Attempt withPath(String p) {
            return new Attempt(method, p, contentType, body, headers, tokens);
        }

        String describe() {
            String b = body == null ? "" : new String(body, 0, Math.min(body.length, 120), StandardCharsets.UTF_8);
            return method + " " + (path.length() > 160 ? path.substring(0, 160) + "..." : path) + " [" + contentType + "] "
                    + b.replace("\n", "\\n").replace("\r", "\\r") + (body != null && body.length > 120 ? "... (" + body.length + " bytes)" : "");
        }
    }

    record Outcome(int status, String contentType, String body) {
    }

    Outcome send(Attempt a) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(Api.base() + a.path())).timeout(Duration.ofSeconds(20));
        a.headers().forEach(b::header);
        if (a.contentType() != null) {
            b.header("Content-Type", a.contentType());
        }
        b.method(a.method(), a.body() == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(a.body()));
        HttpResponse<InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        String ct = r.headers().firstValue("Content-Type").orElse("");
        if (r.statusCode() == 200 && ct.startsWith("text/event-stream")) {
            r.body().close(); // a stream that was valid after all
            return new Outcome(200, ct, "");
        }
        try (InputStream in = r.body()) {
            return new Outcome(r.statusCode(), ct, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    // ---- generators ----

    String nasty() {
        return NASTY[random.nextInt(NASTY.length)];
    }

    /** A string with hostile characters around, or in place of, something plausible. */
    String hostileString() {
        String base = switch (random.nextInt(4)) {
            case 0 -> "note";
            case 1 -> "user-" + random.nextInt(5);
            case 2 -> "x".repeat(random.nextInt(200));
            default -> "";
        };
        int at = base.isEmpty() ? 0 : random.nextInt(base.length() + 1);
        return base.substring(0, at) + nasty() + base.substring(at) + (random.nextInt(3) == 0 ? nasty() : "");
    }

    String quoted(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    String names() {
        List<String> out = new ArrayList<>();
        for (int i = random.nextInt(3); i >= 0; i--) {
            out.add(random.nextInt(3) == 0 ? quoted(hostileString()) : quoted("n" + random.nextInt(5)));
        }
        return "[" + String.join(",", out) + "]";
    }

    /** A publish body: mostly broken in one way, sometimes valid with hostile data. */
    String eventJson() {
        String type = random.nextInt(3) == 0 ? quoted(hostileString()) : "\"hostile\"";
        String data = switch (random.nextInt(6)) {
            case 0 -> quoted(hostileString());
            case 1 -> "{" + quoted(hostileString()) + ":" + quoted(hostileString()) + "}";
            case 2 -> "[" + random.nextLong() + ",1e308,-0,null,true]";
            case 3 -> "\"" + "z".repeat(60_000 + random.nextInt(20_000)) + "\"";
            default -> "{\"n\":" + random.nextInt() + "}";
        };
        String target = switch (random.nextInt(7)) {
            case 0 -> ",\"target\":{\"userIds\":" + names() + ",\"sessionIds\":" + names() + "}";
            case 1 -> ",\"target\":{\"topics\":" + names() + ",\"clientIds\":" + names() + "}";
            case 2 -> ",\"target\":\"everyone\"";
            case 3 -> ",\"target\":{\"userIds\":\"alice\"}";
            case 4 -> ",\"target\":{\"userIds\":[1,2]}";
            case 5 -> ",\"target\":{" + quoted(hostileString()) + ":[]}";
            default -> "";
        };
        String extra = switch (random.nextInt(8)) {
            case 0 -> ",\"id\":" + quoted(hostileString());
            case 1 -> ",\"id\":42";
            case 2 -> "," + quoted(hostileString()) + ":1";
            case 3 -> ",\"type\":\"duplicate\"";
            default -> "";
        };
        return "{\"type\":" + type + ",\"data\":" + data + target + extra + "}";
    }

    String brokenJson() {
        return switch (random.nextInt(10)) {
            case 0 -> "[".repeat(500 + random.nextInt(5000));
            case 1 -> "{\"a\":".repeat(200 + random.nextInt(3000)) + "1" + "}".repeat(10);
            case 2 -> "[".repeat(2000) + "]".repeat(2000);
            case 3 -> "{\"type\":\"x\",\"data\":" + "[".repeat(1500) + "]".repeat(1500) + "}";
            case 4 -> "{\"type\":\"x\"" + nasty() + "}";
            case 5 -> "{'type':'x'}";
            case 6 -> "\u0000\u0000\u0000";
            case 7 -> "{\"type\":\"x\",\"data\":\"" + "\\u0000".repeat(50) + "\"}";
            case 8 -> "{\"type\":\"x\",\"data\":\"\\ud800\"}";
            default -> eventJson().substring(0, random.nextInt(20));
        };
    }

    Map<String, String> publisherAuth() {
        return Map.of("Authorization", "Bearer " + publisher);
    }

    Attempt publishBody() {
        String body = random.nextInt(3) == 0 ? brokenJson() : eventJson();
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        if (random.nextInt(60) == 0) {
            bytes = ("{\"type\":\"big\",\"data\":\"" + "y".repeat(1_000_000 + random.nextInt(500_000)) + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
        } else if (random.nextInt(40) == 0) {
            bytes = new byte[random.nextInt(4000)];
            random.nextBytes(bytes); // not even UTF-8
        }
        return new Attempt("POST", "/api/sse/events", "application/json", bytes, publisherAuth(), List.of(publisher));
    }

    Attempt batchBody() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = random.nextInt(6); i >= 0; i--) {
            sb.append(random.nextInt(4) == 0 ? brokenJson() : eventJson()).append(i > 0 ? "," : "");
        }
        String body = random.nextInt(5) == 0 ? "{\"not\":\"an array\"}" : sb.append(']').toString();
        return new Attempt("POST", "/api/sse/events/batch", "application/json", body.getBytes(StandardCharsets.UTF_8),
                publisherAuth(), List.of(publisher));
    }

    Attempt wrongContentType() {
        String[] types = { "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                "application/xml", "application/json-seq", "text/event-stream", "*/*", "application/json; charset=utf-32",
                "app lication/json", "application/problem+json" };
        String[] paths = { "/api/sse/events", "/api/sse/events/batch", "/api/sse/connections/{clientId}/subscriptions" };
        return new Attempt("POST", paths[random.nextInt(paths.length)], random.nextInt(8) == 0 ? null : types[random.nextInt(types.length)],
                eventJson().getBytes(StandardCharsets.UTF_8), Map.of("Authorization", "Bearer " + admin), List.of(admin));
    }

    Attempt badHeaders() {
        String token = badTokens.get(random.nextInt(badTokens.size()));
        Map<String, String> h = new LinkedHashMap<>();
        String path;
        switch (random.nextInt(6)) {
            case 0 -> h.put("Authorization", "Bearer " + token);
            case 1 -> h.put("Authorization", token);
            case 2 -> h.put("Cookie", "sse_token=" + token.replace(";", "") + "; other=" + token);
            case 3 -> h.put("Authorization", "Bearer " + token + "\u00e9\u00ff");
            case 4 -> {
                h.put("Authorization", "Bearer " + user);
                h.put("Last-Event-ID", hostileHeaderValue());
            }
            default -> {
                h.put("Authorization", "Bearer " + user);
                h.put("Accept", random.nextBoolean() ? "application/xml" : hostileHeaderValue());
            }
        }
        path = random.nextBoolean() ? "/api/sse/stream" : "/api/sse/stats";
        return new Attempt("GET", path, null, null, h, List.of(token, user));
    }

    /** Header values the HTTP client can send: no CR, LF or NUL (those cannot reach a header on the wire). */
    String hostileHeaderValue() {
        String v = hostileString().replaceAll("[\r\n\u0000]", "");
        StringBuilder sb = new StringBuilder();
        for (char c : v.toCharArray()) {
            if (c >= 0x20 && c <= 0xff || c == '\t') {
                sb.append(c);
            }
        }
        return sb.isEmpty() ? "x" : sb.toString();
    }

    String queryValue() {
        if (random.nextInt(5) == 0) {
            // Escapes of bytes that are not UTF-8 (the HTTP client refuses to send malformed escapes).
            return switch (random.nextInt(4)) {
                case 0 -> "%25zz";
                case 1 -> "%c0%80";
                case 2 -> "%e2%80";
                default -> "%ff%fe";
            };
        }
        return URLEncoder.encode(hostileString(), StandardCharsets.UTF_8);
    }

    Attempt streamQuery() {
        String[] params = { "topic", "type", "sessionId", "userId", "lastEventId", "access_token", "topic", "type" };
        StringBuilder q = new StringBuilder();
        int n = random.nextInt(5) == 0 ? 65 + random.nextInt(10) : 1 + random.nextInt(4);
        List<String> tokens = new ArrayList<>(List.of(user));
        // The request line stays under the HTTP server's limit (4 KiB): a longer one is refused by the framework.
        for (int i = 0; i < n && q.length() < 2500; i++) {
            String p = params[random.nextInt(params.length)];
            String v = p.equals("access_token") ? badTokens.get(random.nextInt(badTokens.size() - 1)) : null;
            if (v != null) {
                tokens.add(v);
                v = URLEncoder.encode(v, StandardCharsets.UTF_8);
            } else {
                v = n > 64 && p.equals("topic") ? "t" + i : queryValue();
            }
            q.append(q.length() == 0 ? "" : "&").append(p).append('=').append(v);
        }
        Map<String, String> h = random.nextInt(4) == 0 ? Map.of() : Map.of("Authorization", "Bearer " + user);
        return new Attempt("GET", "/api/sse/stream?" + q, null, null, h, tokens);
    }

    Attempt management() {
        String id = random.nextBoolean() ? "{clientId}" : queryValue();
        String token = random.nextInt(3) == 0 ? user : admin;
        Map<String, String> h = Map.of("Authorization", "Bearer " + token);
        return switch (random.nextInt(4)) {
            case 0 -> new Attempt("DELETE", "/api/sse/connections/" + id + (random.nextBoolean() ? "x" : ""), null, null, h,
                    List.of(token));
            case 1 -> new Attempt("GET", "/api/sse/connections?limit=" + queryValue() + "&offset=" + queryValue() + "&userId="
                    + queryValue(), null, null, h, List.of(token));
            case 2 -> new Attempt("GET", "/api/sse/stats?userId=" + queryValue(), null, null, h, List.of(token));
            default -> {
                String body = switch (random.nextInt(5)) {
                    case 0 -> "{\"add\":" + names() + ",\"remove\":" + names() + "}";
                    case 1 -> "{\"add\":\"x\"}";
                    case 2 -> "{\"types\":" + names() + "}";
                    case 3 -> "{" + quoted(hostileString()) + ":[]}";
                    default -> brokenJson();
                };
                yield new Attempt("POST", "/api/sse/connections/" + id + "/subscriptions", "application/json",
                        body.getBytes(StandardCharsets.UTF_8), h, List.of(token));
            }
        };
    }
}
