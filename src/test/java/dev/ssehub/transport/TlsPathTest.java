package dev.ssehub.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.ssehub.support.Api;
import dev.ssehub.support.SseClient;
import dev.ssehub.support.TestTls;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * TLS, with a self-signed test certificate ({@link TestTls}); plain HTTP stays on for the API calls.
 * HTTP/1.1 over TLS writes raw chunks below the encoder (the TLS handler must still encrypt them);
 * HTTP/2 over TLS (negotiated by ALPN) writes through Vert.x.
 */
@QuarkusTest
@TestProfile(TlsPathTest.Tls.class)
class TlsPathTest extends WritePathTestBase {

    public static class Tls implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.http.ssl.certificate.key-store-file", TestTls.keyStore().toString(),
                    "quarkus.http.ssl.certificate.key-store-password", TestTls.PASSWORD,
                    "quarkus.http.insecure-requests", "enabled");
        }
    }

    @Test
    void http11OverTlsWritesBelowTheEncoder() {
        SseClient client = SseClient.connect(client(HttpClient.Version.HTTP_1_1), streamUrl(), null);
        assertEquals(HttpClient.Version.HTTP_1_1, client.response().version());
        checkStream(client, WritePath.BELOW_ENCODER);
    }

    @Test
    void http2OverTlsWritesThroughVertx() {
        SseClient client = SseClient.connect(client(HttpClient.Version.HTTP_2), streamUrl(), null);
        assertEquals(HttpClient.Version.HTTP_2, client.response().version(), "ALPN chose h2");
        checkStream(client, WritePath.VERTX);
    }

    private static HttpClient client(HttpClient.Version version) {
        return HttpClient.newBuilder().version(version).sslContext(TestTls.clientContext())
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static String streamUrl() {
        return "https://127.0.0.1:" + Api.tlsPort() + "/api/sse/stream?" + QUERY;
    }
}
