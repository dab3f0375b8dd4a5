package dev.ssehub.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import dev.ssehub.support.SseClient;

/**
 * An SSE client that behaves as a browser's EventSource: it keeps the last event id it saw, and when the
 * stream ends or the connection fails it waits the {@code retry:} delay the server sent (3 s until then)
 * and reconnects with {@code Last-Event-ID}. Unlike EventSource it also reconnects after a response other
 * than 200 (a browser would give up), and counts those. It records every event of type {@code t}: its id
 * and its data (the publisher's sequence number). One thread per client; the HTTP client, and so its
 * pool of kept-alive connections, is shared as a browser shares one per origin.
 */
final class EventSourceClient implements AutoCloseable {

    /** An event as received: its id, its data, and on which connection of this client (1, 2, ...). */
    record Received(String id, long data, int connection) {
    }

    private final HttpClient http;
    private final URI uri;
    private final Thread thread;
    private final List<Received> events = new ArrayList<>();
    private final List<String> truncations = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    private final Map<String, Integer> outcomes = new TreeMap<>();
    private volatile boolean stopped;
    private volatile Stream<String> body;
    private volatile String lastEventId;
    private volatile long retryMillis = 3000;
    private volatile int connections;
    private volatile int established;
    private volatile int non200;

    EventSourceClient(HttpClient http, String url, String name) {
        this.http = http;
        this.uri = URI.create(url);
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        while (!stopped) {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).header("Accept", "text/event-stream").GET();
            String last = lastEventId;
            if (last != null) {
                b.header("Last-Event-ID", last);
            }
            connections++;
            int before = established;
            String outcome;
            try {
                HttpResponse<Stream<String>> r = http.send(b.build(), HttpResponse.BodyHandlers.ofLines());
                body = r.body();
                if (r.statusCode() != 200) {
                    non200++;
                    outcome = "HTTP " + r.statusCode();
                    r.body().close();
                } else {
                    read(r.body());
                    outcome = established > before ? "stream, ended by the server" : "200, ended before its first frame";
                }
            } catch (IOException e) {
                outcome = e.toString();
            } catch (InterruptedException e) {
                outcome = "stopped by the test";
            } catch (RuntimeException e) {
                // the body stream failed mid-read (reset), or close() closed it
                outcome = (established > before ? "stream, failed: " : "no stream: ") + e;
            }
            if (stopped) {
                outcome(established > before ? "stream, open until the test stopped" : "stopped by the test");
                return;
            }
            outcome(outcome);
            if (!outcome.startsWith("stream")) {
                failure(outcome);
            }
            try {
                Thread.sleep(retryMillis);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void read(Stream<String> lines) {
        SseClient.Parser parser = new SseClient.Parser();
        int connection = connections;
        try (lines) {
            for (String line : (Iterable<String>) lines::iterator) {
                SseClient.Frame f = parser.line(line, System.nanoTime());
                if (f == null) {
                    continue;
                }
                if (f.retry() != null) {
                    retryMillis = f.retry();
                }
                if (f.id() != null) {
                    lastEventId = f.id();
                }
                if ("connection_established".equals(f.event())) {
                    established++;
                } else if ("t".equals(f.event())) {
                    synchronized (this) {
                        events.add(new Received(f.id(), Long.parseLong(f.data()), connection));
                    }
                } else if ("replay_truncated".equals(f.event())) {
                    synchronized (this) {
                        truncations.add(f.data());
                    }
                }
            }
        }
    }

    private synchronized void outcome(String what) {
        outcomes.merge(what, 1, Integer::sum);
    }

    private synchronized void failure(String what) {
        if (failures.size() < 20) {
            failures.add(what);
        }
    }

    synchronized List<Received> events() {
        return List.copyOf(events);
    }

    synchronized List<String> truncations() {
        return List.copyOf(truncations);
    }

    /** How each request made ended, and how often. */
    synchronized Map<String, Integer> outcomes() {
        return Map.copyOf(outcomes);
    }

    synchronized List<String> failures() {
        return List.copyOf(failures);
    }

    String lastEventId() {
        return lastEventId;
    }

    /** Requests made (the first connection and every reconnection). */
    int connections() {
        return connections;
    }

    /** Streams that started (their first frame arrived). */
    int established() {
        return established;
    }

    int non200() {
        return non200;
    }

    long retryMillis() {
        return retryMillis;
    }

    @Override
    public void close() {
        stopped = true;
        Stream<String> b = body;
        if (b != null) {
            b.close();
        }
        thread.interrupt();
    }
}
