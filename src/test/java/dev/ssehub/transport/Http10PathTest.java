package dev.ssehub.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

import dev.ssehub.support.RawHttp;
import dev.ssehub.support.SseClient;
import io.quarkus.test.junit.QuarkusTest;

/**
 * An HTTP/1.0 client (old proxies, simple tools): no chunked coding, so the body is the stream's bytes as
 * they are and ends when the connection closes: the Vert.x path.
 */
@QuarkusTest
class Http10PathTest extends WritePathTestBase {

    @Test
    void http10WritesThroughVertx() {
        RawHttp http = RawHttp.connect();
        http.send("GET /api/sse/stream?" + QUERY + " HTTP/1.0", "Accept: text/event-stream");
        RawHttp.Head head = http.readHead();
        assertEquals("HTTP/1.0 200 OK", head.statusLine());
        assertEquals("text/event-stream", head.header("content-type"));
        assertNull(head.header("transfer-encoding"), "HTTP/1.0 has no chunked coding");
        checkStream(SseClient.over(http.body(), http), WritePath.VERTX);
    }
}
