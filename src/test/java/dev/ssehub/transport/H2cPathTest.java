package dev.ssehub.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.http.HttpClient;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.SseClient;
import io.quarkus.test.junit.QuarkusTest;

/**
 * HTTP/2 cleartext: the JDK client asks to upgrade the plain connection ({@code Upgrade: h2c}), Vert.x
 * accepts, and the stream is an HTTP/2 stream: the Vert.x path. The client's close resets the HTTP/2
 * stream and keeps the connection, which must still take the stream out of the registry.
 */
@QuarkusTest
class H2cPathTest extends WritePathTestBase {

    @Test
    void http2CleartextWritesThroughVertx() {
        HttpClient h2c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                .connectTimeout(Duration.ofSeconds(5)).build();
        SseClient client = SseClient.connect(h2c, Api.stream(QUERY), null);
        assertEquals(HttpClient.Version.HTTP_2, client.response().version(), "the upgrade to h2c happened");
        checkStream(client, WritePath.VERTX);
    }
}
