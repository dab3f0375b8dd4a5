package dev.ssehub.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.http.HttpClient;

import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.SseClient;
import io.quarkus.test.junit.QuarkusTest;

/** Plain HTTP/1.1, as browsers speak to a plain origin and proxies to their upstreams: the socket path. */
@QuarkusTest
class PlainHttp11PathTest extends WritePathTestBase {

    @Test
    void plainHttp11WritesStraightToTheSocket() {
        SseClient client = SseClient.connect(Api.stream(QUERY));
        assertEquals(HttpClient.Version.HTTP_1_1, client.response().version());
        checkStream(client, plainHttp11Path());
    }
}
