package dev.ssehub.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.ssehub.support.Tokens;

/**
 * Every refusal the HTTP layer makes on its own (before any resource runs) answers application/problem+json
 * with a detail saying what was wrong, and none writes an ERROR line to the log. Spoken over raw sockets to
 * the packaged service in the prod profile, where CORS allows no other origin and authentication is on: the
 * HTTP layer refuses before any token is looked at; a request that passes it needs one ({@code {token}} in a
 * case: a publisher's).
 */
class HttpRefusalsIT {

    private static final Pattern STATUS = Pattern.compile("^HTTP/1\\.[01] (\\d{3}) ");
    private static ServiceProcess svc;

    @BeforeAll
    static void start() throws Exception {
        // A body limit of 1M (the default is 16M) keeps the chunked case small.
        svc = ServiceProcess.start(ServiceProcess.with(ServiceProcess.AUTH_ON, Map.of("SSE_HTTP_HEADER_TIMEOUT", "2s",
                "SSE_HTTP_BODY_TIMEOUT", "2s", "SSE_MAX_BATCH_BYTES", "1M")));
        svc.awaitReady(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        svc.close();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "no Host|GET /api/sse/stats HTTP/1.1\\r\\n\\r\\n|400|invalid-request|'Host' header is required",
            "bad Content-Length|POST /api/sse/events HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: abc\\r\\n\\r\\n{}|400|invalid-request|Content-Length",
            "two Content-Lengths|POST /api/sse/events HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 2\\r\\nContent-Length: 3\\r\\n\\r\\n{}|400|invalid-request|Multiple Content-Length",
            "bad method|G(T /api/sse/stats HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n|400|invalid-request|Illegal character",
            "bad percent-encoding in the path|GET /api/sse/st%zzream HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n|400|invalid-request|not a valid URI",
            "bad percent-encoding in the query|GET /api/sse/stats?userId=%zz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n|400|invalid-request|not a valid URI",
            "origin not allowed|GET /api/sse/stats HTTP/1.1\\r\\nHost: x\\r\\nOrigin: http://evil.example\\r\\n\\r\\n|403|origin-not-allowed|sse.cors.origins",
            "CORS preflight|OPTIONS /api/sse/events HTTP/1.1\\r\\nHost: x\\r\\nOrigin: http://evil.example\\r\\nAccess-Control-Request-Method: POST\\r\\n\\r\\n|403|origin-not-allowed|http://evil.example",
            "declared body over the limit|POST /api/sse/events HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: 1048577\\r\\n\\r\\n|413|body-too-large|sse.max-batch-bytes",
            "declared body over the limit elsewhere|POST /q/health HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 20000000\\r\\n\\r\\n|413|body-too-large|1048576 bytes",
            "no token|POST /api/sse/events HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: 12\\r\\n\\r\\n{\"type\":\"x\"}|401|unauthorized|token",
            "missing Content-Type|POST /api/sse/events HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer {token}\\r\\nContent-Length: 12\\r\\n\\r\\n{\"type\":\"x\"}|415|unsupported-media-type|Content-Type",
    })
    void refusalsAreProblems(String name, String request, int status, String slug, String detail) throws Exception {
        String answer = exchange(request.replace("\\r\\n", "\r\n").replace("{token}", Tokens.publisher().sign())
                .getBytes(StandardCharsets.ISO_8859_1));
        assertProblem(answer, status, slug, detail);
    }

    @Test
    void longRequestLineIs414() throws Exception {
        String answer = exchange(("GET /api/sse/stats?" + "a".repeat(5000) + " HTTP/1.1\r\nHost: x\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        assertProblem(answer, 414, "uri-too-long", "max-initial-line-length");
    }

    @Test
    void largeHeadersAre431() throws Exception {
        String answer = exchange(("GET /api/sse/stats HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(30_000) + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        assertProblem(answer, 431, "headers-too-large", "max-header-size");
    }

    @Test
    void chunkedBodyOverTheLimitIs413() throws Exception {
        try (Socket s = connect()) {
            s.getOutputStream().write(("POST /api/sse/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + publisher() + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = ("10000\r\n" + "a".repeat(0x10000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            try {
                for (int i = 0; i < 20; i++) { // 1.25 MiB, over sse.max-batch-bytes
                    s.getOutputStream().write(chunk);
                }
            } catch (IOException closedUnderUs) {
                // the server answered and closed before the client finished: expected
            }
            assertProblem(readAll(s.getInputStream()), 413, "body-too-large", "sse.max-batch-bytes");
        }
    }

    @Test
    void headerTimeoutIs408() throws Exception {
        try (Socket s = connect()) {
            // A byte every 500 ms: the connection is never idle, the head never complete.
            long t0 = System.nanoTime();
            String answer = "";
            for (int i = 0; i < 20 && answer.isEmpty(); i++) {
                try {
                    s.getOutputStream().write("GET /api/sse/stream HTTP/1.1\r\nX".substring(i, i + 1)
                            .getBytes(StandardCharsets.US_ASCII));
                    s.setSoTimeout(500);
                    answer = readAll(s.getInputStream());
                } catch (SocketTimeoutException stillOpen) {
                    // next byte
                } catch (IOException closed) {
                    break;
                }
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertProblem(answer, 408, "request-timeout", "sse.http.header-timeout");
            assertTrue(ms < 5000, "closed at the 2 s header timeout although bytes kept coming: " + ms + " ms");
        }
    }

    @Test
    void stalledBodyIs408() throws Exception {
        try (Socket s = connect()) {
            s.getOutputStream().write(("POST /api/sse/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + publisher() + "Content-Length: 100\r\n\r\n{\"type\"").getBytes(StandardCharsets.US_ASCII));
            assertProblem(readAll(s.getInputStream()), 408, "request-timeout", "bytes of the request body arrived in");
        }
    }

    @Test
    void noRefusalWritesAnErrorLine() throws Exception {
        // The cases above ran first or run now; either way the log must stay free of ERROR lines.
        exchange("GET /api/sse/stats HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        exchange("GET /api/sse/st%zzream HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        String log = svc.output();
        assertFalse(log.contains(" ERROR "), "no ERROR line:\n" + log);
    }

    /**
     * Without a token the API answers 401 before it reads a body: the body cases need a valid one to reach
     * the body phase.
     */
    private static String publisher() {
        return "Authorization: Bearer " + Tokens.publisher().sign() + "\r\n";
    }

    /** Without a token a stalled upload is answered 401 at once: its body is never waited for. */
    @Test
    void stalledBodyWithoutATokenIs401AtOnce() throws Exception {
        try (Socket s = connect()) {
            s.getOutputStream().write(("POST /api/sse/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 100\r\n\r\n{\"type\"").getBytes(StandardCharsets.US_ASCII));
            s.setSoTimeout(1500); // well before the 2 s body timeout
            assertProblem(readAll(s.getInputStream()), 401, "unauthorized", "A token is required");
        }
    }

    private static void assertProblem(String answer, int status, String slug, String detail) {
        Matcher m = STATUS.matcher(answer);
        assertTrue(m.find(), "an HTTP answer: " + answer);
        assertEquals(status, Integer.parseInt(m.group(1)), answer);
        String lower = answer.toLowerCase();
        assertTrue(lower.contains("content-type: application/problem+json"), answer);
        String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
        assertTrue(body.startsWith("{\"type\":\"urn:ssehub:problem:" + slug + "\""), body);
        assertTrue(body.contains("\"status\":" + status), body);
        assertTrue(body.contains("\"title\":\""), body);
        assertTrue(body.contains(detail), "detail mentions " + detail + ": " + body);
    }

    private static Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", svc.port), 2000);
        s.setSoTimeout(10_000);
        return s;
    }

    /** Sends the request and reads the answer: up to the end of its Content-Length, or until the server closes. */
    private static String exchange(byte[] request) throws IOException {
        try (Socket s = connect()) {
            s.getOutputStream().write(request);
            return readAll(s.getInputStream());
        }
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            for (int n; (n = in.read(buf)) >= 0;) {
                out.write(buf, 0, n);
                String s = out.toString(StandardCharsets.ISO_8859_1);
                int end = s.indexOf("\r\n\r\n");
                Matcher len = Pattern.compile("(?i)content-length: *(\\d+)").matcher(s);
                if (end >= 0 && len.find() && len.start() < end && s.length() - end - 4 >= Integer.parseInt(len.group(1))) {
                    break;
                }
            }
        } catch (IOException reset) {
            // the server may reset after answering (unread request bytes); what was read is the answer
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }
}
