package dev.ssehub.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import dev.ssehub.config.SseConfig;
import dev.ssehub.transport.HttpGuard;
import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.vertx.http.HttpServerStart;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The HTTP layer in front of the resources: every request is seen first here (the connection guard learns
 * its head is complete; connections from the file-descriptor reserve serve probes and metrics only), request
 * bodies over {@code sse.max-batch-bytes} are refused before a byte of them is read, the others must arrive
 * at {@code sse.http.body-min-rate} and fit, by their declared length, within {@code sse.http.body-total-bytes}
 * beside the bodies being read (bodies larger than one event within all but {@code sse.max-batch-bytes} of it),
 * and whatever the router itself refuses is answered as problem+json.
 *
 * <p>Bodies are read by the resources' input handler on the event loop ({@code quarkus.rest.input-buffer-size}
 * is at least {@code sse.max-batch-bytes}), so no worker thread ever waits for a slow client.
 */
@ApplicationScoped
public class HttpEdge {

    private static final Logger LOG = Logger.getLogger(HttpEdge.class);
    /** Before Quarkus's CORS filter and upload limit, after nothing: the guard must see every request. */
    static final int FIRST = Integer.MIN_VALUE;

    @Inject
    HttpGuard guard;
    @Inject
    SseConfig config;
    @Inject
    Problems problems;
    @ConfigProperty(name = "quarkus.http.non-application-root-path", defaultValue = "q")
    String nonApplicationRoot;

    /** The connection guard's limits. */
    @Produces
    @Singleton
    static HttpGuard.Settings guardSettings(SseConfig c,
            @ConfigProperty(name = "quarkus.http.idle-timeout", defaultValue = "30M") Duration idle,
            @ConfigProperty(name = "quarkus.http.limits.max-initial-line-length", defaultValue = "4096") int line,
            @ConfigProperty(name = "quarkus.http.limits.max-header-size", defaultValue = "20K") MemorySize headers) {
        return new HttpGuard.Settings(c.http().headerTimeout(), c.http().maxPending(c.maxClients()),
                c.http().maxPendingPerAddress(), idle, toInt(c.maxBatchBytes()), c.http().bodyTotalBytes().asLongValue(),
                line, toInt(headers), c.maxClients());
    }

    private static int toInt(MemorySize size) {
        return (int) Math.min(Integer.MAX_VALUE, size.asLongValue());
    }

    void routes(@Observes Router router) {
        router.route().order(FIRST).handler(this::request);
        router.route().order(FIRST).failureHandler(this::failure);
    }

    /**
     * Netty offers no hook for a new connection of a server it did not create; the guard reaches the listening
     * socket through a request. One to ourselves right after start-up means no connection is accepted unguarded
     * for longer than that takes.
     */
    void started(@ObservesAsync HttpServerStart start) {
        String host = start.options().getHost();
        int port = start.options().getPort();
        if (port <= 0) {
            return; // a random port: the first request installs the guard
        }
        if (host == null || host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
            host = "127.0.0.1";
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 2000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("GET /" + nonApplicationRoot.replaceAll("^/+|/+$", "") + "/health/live HTTP/1.1\r\nHost: "
                    + host + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            while (in.read() >= 0) {
                // drain the answer
            }
        } catch (IOException e) {
            LOG.debugf("No request to ourselves on %s:%d (%s); the first request installs the connection guard", host,
                    port, e.toString());
        }
    }

    private void request(RoutingContext rc) {
        HttpServerRequest req = rc.request();
        if (guard.requestStarted(req) == HttpGuard.Admission.RESERVE && !isProbe(rc.normalizedPath())) {
            guard.reserveRefused();
            answer(rc, 503, "unavailable", "Service unavailable", "The service is at its connection limit "
                    + "(sse.http.max-pending or the file-descriptor limit); retry later", true);
            return;
        }
        long length = contentLength(req);
        if (length > config.maxBatchBytes().asLongValue()) {
            answer(rc, 413, "body-too-large", "Request body too large", "The request body is larger than "
                    + config.maxBatchBytes().asLongValue() + " bytes (sse.max-batch-bytes)", true);
            return;
        }
        boolean h2 = req.version() == HttpVersion.HTTP_2;
        if (h2 && length < 0 && takesBody(req.method()) && HttpGuard.bodyMayFollow(req)) {
            // HTTP/1.x bodies without a length (chunked) are counted by the connection guard as they arrive;
            // HTTP/2 ones are not, and would be buffered whole before a limit applies. (A head that ended its
            // stream has no body: it passes.)
            answer(rc, 411, "length-required", "Length required",
                    "A request body over HTTP/2 needs a Content-Length (at most sse.max-batch-bytes)", true);
            return;
        }
        if (length > 0 || (!h2 && req.getHeader(HttpHeaders.TRANSFER_ENCODING) != null)) {
            // What the body may hold in memory while it is read and handled: its declared length, or the most
            // a body may be.
            long held = length > 0 ? length : config.maxBatchBytes().asLongValue();
            if (!guard.reserveBody(held, held <= config.maxEventBytes() + 1024L)) {
                answer(rc, 503, "body-budget", "Too many request bodies in progress", "Request bodies being read "
                        + "take " + guard.bodyBytes() + " of " + guard.bodyTotalBytes()
                        + " bytes (sse.http.body-total-bytes), and this one declares " + (length > 0 ? length
                                : "no length (counted as sse.max-batch-bytes, " + held + ")")
                        + "; retry later", true);
                return;
            }
            rc.addEndHandler(v -> guard.releaseBody(held));
            watchBody(rc);
        }
        rc.next();
    }

    /** The declared body length; -1 when there is none (a malformed one never gets here: the decoder refuses it). */
    private static long contentLength(HttpServerRequest req) {
        String v = req.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (v == null) {
            return -1;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE; // HTTP/2 does not validate it: refuse as too large
        }
    }

    private static boolean takesBody(HttpMethod m) {
        return m == HttpMethod.POST || m == HttpMethod.PUT || m == HttpMethod.PATCH;
    }

    private boolean isProbe(String path) {
        String root = "/" + nonApplicationRoot.replaceAll("^/+|/+$", "") + "/";
        return path != null && (path.startsWith(root + "health") || path.equals(root + "metrics"));
    }

    /**
     * A body is closed (408, and its connection: the rest of it will not be read; HTTP/2: its stream reset)
     * when no byte of it arrived for {@code sse.http.body-timeout}, or when, after that grace, it arrived slower
     * on average than {@code sse.http.body-min-rate}: allowed time = body-timeout + received / body-min-rate. A
     * healthy upload of any size gets through; a stalled one goes within 1.25 × body-timeout (checked in
     * quarters of it).
     */
    private void watchBody(RoutingContext rc) {
        long start = System.nanoTime();
        long timeout = config.http().bodyTimeout().toNanos();
        long step = Math.max(100, config.http().bodyTimeout().toMillis() / 4);
        long nanosPerByte = Math.max(1, 1_000_000_000L / config.http().bodyMinRate());
        Handler<Long> check = new Handler<>() {
            long lastRead;
            long lastProgress = start;

            @Override
            public void handle(Long id) {
                HttpServerRequest req = rc.request();
                HttpServerResponse resp = rc.response();
                if (req.isEnded() || resp.ended() || resp.closed()) {
                    return;
                }
                long now = System.nanoTime();
                long read = req.bytesRead();
                if (read > config.maxBatchBytes().asLongValue()) {
                    // A peer sending more than it declared (HTTP/1.x chunked bodies are cut by the guard at once).
                    answer(rc, 413, "body-too-large", "Request body too large", "The request body is larger than "
                            + config.maxBatchBytes().asLongValue() + " bytes (sse.max-batch-bytes)", true);
                    return;
                }
                if (read > lastRead) {
                    lastRead = read;
                    lastProgress = now;
                }
                boolean stalled = now - lastProgress >= timeout;
                if (!stalled && now - start < timeout + read * nanosPerByte) {
                    rc.put(BodyTimer.KEY, rc.vertx().setTimer(step, this));
                    return;
                }
                guard.bodyTimedOut();
                LOG.debugf("Closed %s: %d body bytes in %d ms (sse.http.body-timeout %s, body-min-rate %d)",
                        req.remoteAddress(), read, (now - start) / 1_000_000, config.http().bodyTimeout(),
                        config.http().bodyMinRate());
                answer(rc, 408, "request-timeout", "Request timeout", read + " bytes of the request body arrived in "
                        + (now - start) / 1_000_000 + " ms; a body must keep arriving, with no pause as long as "
                        + text(config.http().bodyTimeout()) + " (sse.http.body-timeout) and at "
                        + config.http().bodyMinRate() + " bytes per second or more (sse.http.body-min-rate)", true);
            }
        };
        rc.put(BodyTimer.KEY, rc.vertx().setTimer(step, check));
        rc.addEndHandler(v -> {
            Long timer = rc.get(BodyTimer.KEY);
            if (timer != null) {
                rc.vertx().cancelTimer(timer);
            }
        });
    }

    private static final class BodyTimer {
        static final String KEY = "sse-hub.body-timer";
    }

    /**
     * Failures of the router itself (a missing {@code Host}, a path it cannot decode, a body over
     * {@code sse.max-batch-bytes}, an {@code Expect} it cannot meet) and anything a resource threw that no
     * exception mapper took: problem+json, like every other answer. Refusals are logged at DEBUG; only
     * faults of the service (5xx) at ERROR.
     */
    private void failure(RoutingContext rc) {
        HttpServerResponse resp = rc.response();
        if (resp.ended() || resp.closed() || resp.headWritten()) {
            if (!resp.ended() && !resp.closed()) {
                rc.request().connection().close(); // a response half sent cannot be finished
            }
            return;
        }
        int status = rc.statusCode();
        Throwable failure = rc.failure();
        if (status < 400 || status >= 500) {
            LOG.error("Unexpected error while handling " + rc.request().method() + " " + rc.request().path(), failure);
            answer(rc, 500, "internal-error", "Internal error", "The service failed to handle the request; see its log",
                    false);
            return;
        }
        LOG.debugf("Refused %s %s with %d: %s", rc.request().method(), rc.request().path(), status, failure);
        switch (status) {
            case 413 -> answer(rc, 413, "body-too-large", "Request body too large", "The request body is larger than "
                    + config.maxBatchBytes().asLongValue() + " bytes (sse.max-batch-bytes)", true);
            case 400 -> answer(rc, 400, "invalid-request", "Invalid request",
                    failure != null && failure.getMessage() != null ? failure.getMessage() : "Malformed HTTP request",
                    false);
            default -> {
                String title = io.netty.handler.codec.http.HttpResponseStatus.valueOf(status).reasonPhrase();
                answer(rc, status, Problems.slug(title), title,
                        failure != null && failure.getMessage() != null ? failure.getMessage() : title, false);
            }
        }
    }

    /** Answers a problem; {@code close}: the request (its body) was not read to the end, so the connection goes. */
    private void answer(RoutingContext rc, int status, String slug, String title, String detail, boolean close) {
        HttpServerResponse resp = rc.response();
        boolean h2 = rc.request().version() == HttpVersion.HTTP_2;
        if (resp.headWritten()) {
            closeConnection(rc, h2);
            return;
        }
        resp.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, Problems.MEDIA_TYPE);
        if (status == 503) {
            resp.putHeader(HttpHeaders.RETRY_AFTER, Integer.toString(config.retryAfterSeconds()));
        }
        if (close && !h2) {
            resp.putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
        }
        resp.end(Buffer.buffer(problems.encode(slug, title, status, detail))).onComplete(done -> {
            if (close) {
                closeConnection(rc, h2);
            }
        });
    }

    private static void closeConnection(RoutingContext rc, boolean h2) {
        if (h2) {
            rc.response().reset();
        } else {
            rc.request().connection().close();
        }
    }

    private static String text(Duration d) {
        return d.toString().substring(2).toLowerCase();
    }
}
