package dev.ssehub.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * A real streaming SSE client for tests: java.net.http with a line subscriber, parsing frames as the
 * WHATWG event-stream parser does (fields up to a blank line; one leading space stripped). Every frame
 * keeps its raw lines too, so tests can check the wire format exactly.
 */
public final class SseClient implements AutoCloseable {

    public record Frame(String id, String event, String data, Long retry, List<String> lines, long receivedNanos) {
        public boolean isComment() {
            return event == null && data == null && id == null && retry == null;
        }
    }

    /**
     * HTTP/1.1, as browsers speak to a plain-HTTP origin and proxies to their upstreams (the JDK client
     * would otherwise upgrade to HTTP/2 cleartext, a path the transport tests cover on purpose).
     */
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();
    /** The HTTP response; null for a stream read from a raw socket ({@link #over}). */
    private final HttpResponse<?> response;
    private final Stream<String> body;
    private final AutoCloseable closer;
    private final CompletableFuture<Void> reader;
    private volatile boolean ended;
    private volatile long endedNanos;

    private SseClient(HttpResponse<?> response, Stream<String> body, AutoCloseable closer) {
        this.response = response;
        this.body = body;
        this.closer = closer;
        // A thread of its own: the common pool has one thread on a 2-core machine, and readers block.
        this.reader = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            read();
            reader.complete(null);
        }, "sse-client-reader");
        t.setDaemon(true);
        t.start();
    }

    public static SseClient connect(String url) {
        return connect(url, null);
    }

    public static SseClient connect(String url, String lastEventId) {
        return connect(HTTP, url, lastEventId);
    }

    /** Connects with the given client (another HTTP version, TLS). */
    public static SseClient connect(HttpClient http, String url, String lastEventId) {
        return connect(http, url, lastEventId, Map.of());
    }

    /** Connects with extra request headers (Authorization, Cookie). */
    public static SseClient connect(String url, String lastEventId, Map<String, String> headers) {
        return connect(HTTP, url, lastEventId, headers);
    }

    public static SseClient connect(HttpClient http, String url, String lastEventId, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Accept", "text/event-stream").GET();
        if (lastEventId != null) {
            b.header("Last-Event-ID", lastEventId);
        }
        headers.forEach(b::header);
        HttpResponse<Stream<String>> r = send(http, b.build(), HttpResponse.BodyHandlers.ofLines());
        return new SseClient(r, r.body(), r.body());
    }

    /**
     * Connects asking for a gzip-compressed stream ({@code Accept-Encoding: gzip}) and decodes it as it
     * arrives when the server compresses it (the JDK client does not decode content codings itself).
     */
    public static SseClient connectGzip(HttpClient http, String url) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).header("Accept", "text/event-stream")
                .header("Accept-Encoding", "gzip").GET().build();
        HttpResponse<InputStream> r = send(http, request, HttpResponse.BodyHandlers.ofInputStream());
        InputStream in = r.body();
        if ("gzip".equals(r.headers().firstValue("content-encoding").orElse(null))) {
            try {
                in = new GZIPInputStream(in) {
                    /*
                     * GZIPInputStream says 1 until the end of the data, so the reader above keeps reading for a
                     * full buffer and blocks though a whole event has been inflated: say what is really known.
                     */
                    @Override
                    public int available() {
                        return 0;
                    }
                };
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new SseClient(r, lines(in), r.body());
    }

    private static <T> HttpResponse<T> send(HttpClient http, HttpRequest request, HttpResponse.BodyHandler<T> body) {
        try {
            return http.send(request, body);
        } catch (IOException e) {
            throw new RuntimeException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
    }

    /** Reads a stream's body from a raw connection (e.g. an HTTP/1.0 socket after its head); closing closes it. */
    public static SseClient over(InputStream body, AutoCloseable connection) {
        return new SseClient(null, lines(body), connection);
    }

    private static Stream<String> lines(InputStream in) {
        return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines();
    }

    public int status() {
        return response.statusCode();
    }

    /** The HTTP response (status, headers, version); null for a stream read from a raw socket. */
    public HttpResponse<?> response() {
        return response;
    }

    private void read() {
        Parser parser = new Parser();
        try (body) {
            for (String line : (Iterable<String>) body::iterator) {
                Frame f = parser.line(line, System.nanoTime());
                if (f != null) {
                    frames.add(f);
                }
            }
        } catch (Exception e) {
            // stream ended by close() or by the server
        } finally {
            endedNanos = System.nanoTime();
            ended = true;
        }
    }

    /**
     * The event-stream parser, one line (without its line ending) at a time: fields up to a blank line,
     * one leading space stripped from a value, several {@code data} lines joined with LF. Shared with the
     * unit tests, which parse the bytes a fake transport was given.
     */
    public static final class Parser {
        private final List<String> lines = new ArrayList<>();
        private String id;
        private String event;
        private StringBuilder data;
        private Long retry;

        /** Takes one line; returns the frame a blank line completes, else null. */
        public Frame line(String line, long nowNanos) {
            if (line.isEmpty()) {
                Frame f = lines.isEmpty() ? null
                        : new Frame(id, event, data == null ? null : data.toString(), retry, List.copyOf(lines), nowNanos);
                lines.clear();
                id = event = null;
                data = null;
                retry = null;
                return f;
            }
            lines.add(line);
            int colon = line.indexOf(':');
            String field = colon < 0 ? line : line.substring(0, colon);
            String value = colon < 0 ? "" : line.substring(colon + 1);
            if (value.startsWith(" ")) {
                value = value.substring(1);
            }
            switch (field) {
                case "id" -> id = value;
                case "event" -> event = value;
                case "data" -> data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                case "retry" -> retry = Long.parseLong(value);
                default -> {
                    // a comment (empty field name) or a field the spec tells clients to ignore
                }
            }
            return null;
        }

        /** Whether a frame has begun and not yet been completed by a blank line. */
        public boolean midFrame() {
            return !lines.isEmpty();
        }
    }

    /** The next frame, or null after the timeout. */
    public Frame next(Duration timeout) {
        try {
            return frames.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The next frame with this event name, skipping others (heartbeats); fails after the timeout. */
    public Frame await(String event, Duration timeout) {
        return await(f -> event.equals(f.event()), timeout, "event " + event);
    }

    public Frame await(Predicate<Frame> p, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            Frame f = left > 0 ? next(Duration.ofNanos(left)) : null;
            if (f == null) {
                throw new AssertionError("no " + what + " within " + timeout + (ended ? " (stream ended)" : ""));
            }
            if (p.test(f)) {
                return f;
            }
        }
    }

    /** Frames of application events (anything but heartbeats and comments) received within the window. */
    public List<Frame> drainEvents(Duration window) {
        List<Frame> out = new ArrayList<>();
        long deadline = System.nanoTime() + window.toNanos();
        while (System.nanoTime() < deadline) {
            Frame f = next(Duration.ofMillis(20));
            if (f != null && !f.isComment() && !"heartbeat".equals(f.event())) {
                out.add(f);
            }
        }
        return out;
    }

    /** Waits until the server ended the stream. */
    public boolean awaitEnd(Duration timeout) {
        try {
            reader.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            return ended;
        }
    }

    /** When the stream ended (System.nanoTime), 0 while open. */
    public long endedNanos() {
        return endedNanos;
    }

    public boolean ended() {
        return ended;
    }

    @Override
    public void close() {
        try {
            closer.close();
        } catch (Exception ignored) {
            // already closed
        }
    }
}
