package dev.ssehub.api;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import io.quarkus.test.junit.QuarkusTest;

/**
 * {@code HEAD /api/sse/stream} answers a stream's headers and registers nothing: no open stream, no opened
 * count, nothing delivered to it, and its keep-alive connection serves the next request. Spoken over a
 * raw socket, so the test sees exactly what goes over the connection.
 */
@QuarkusTest
class StreamHeadTest {

    @BeforeEach
    void reset() {
        Api.reset();
    }

    @Test
    void headAnswersTheStreamHeadersAndRegistersNothing() throws Exception {
        double openedBefore = Api.metric("sse_connections_opened_total");
        URI base = URI.create(Api.base());
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write("HEAD /api/sse/stream?userId=h1&topic=t HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String head = readHead(in);
            assertTrue(head.startsWith("HTTP/1.1 200 "), head);
            assertTrue(head.toLowerCase().contains("content-type: text/event-stream"), head);
            assertTrue(head.toLowerCase().contains("cache-control: no-cache"), head);
            assertTrue(head.toLowerCase().contains("x-accel-buffering: no"), head);

            // Nothing registered, nothing delivered to it.
            assertEquals(0, Api.activeConnections());
            assertEquals(0, given().queryParam("userId", "h1").get("/api/sse/stats").then().statusCode(200)
                    .extract().jsonPath().getInt("userConnections"));
            assertEquals(openedBefore, Api.metric("sse_connections_opened_total"));
            assertEquals(0, Api.publish("{\"type\":\"x\",\"target\":{\"topics\":[\"t\"]}}").getInt("delivered"));

            // No body follows, and the same connection answers the next request.
            Thread.sleep(300);
            assertEquals(0, in.available(), "no bytes after the HEAD answer");
            out.write("GET /q/health/live HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String next = readHead(in);
            assertTrue(next.startsWith("HTTP/1.1 200 "), next);
        }
        assertEquals(0, Api.activeConnections());
    }

    @Test
    void headValidatesTheQueryLikeGet() throws Exception {
        URI base = URI.create(Api.base());
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("HEAD /api/sse/stream?lastEventId=nope HTTP/1.1\r\nHost: x\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String head = readHead(s.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 400 "), head);
            assertFalse(head.toLowerCase().contains("text/event-stream"), head);
        }
        assertEquals(0, Api.activeConnections());
    }

    /** The status line and headers, up to the blank line. */
    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            b.write(c);
            byte[] a = b.toByteArray();
            int n = a.length;
            if (n >= 4 && a[n - 4] == '\r' && a[n - 3] == '\n' && a[n - 2] == '\r' && a[n - 1] == '\n') {
                break;
            }
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }
}
