package dev.ssehub.it;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What a Kubernetes probe or a well-behaved client sees while an attack runs: the same request every
 * {@code every}, each on a new connection from 127.0.0.1 (as kubelet probes are), with its status and how
 * long it took to the end of the answer. A request that gets no answer within 5 s counts as failed.
 */
final class Prober implements AutoCloseable {

    record Result(long startNanos, long millis, int status) {
    }

    final String name;
    private final int port;
    private final byte[] request;
    private final int expected;
    private final Duration every;
    private final List<Result> results = Collections.synchronizedList(new ArrayList<>());
    private final Thread thread;
    private volatile boolean running = true;

    Prober(String name, int port, String request, int expected, Duration every) {
        this.name = name;
        this.port = port;
        this.request = request.getBytes(StandardCharsets.UTF_8);
        this.expected = expected;
        this.every = every;
        this.thread = new Thread(this::run, "prober-" + name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    static Prober get(int port, String path) {
        return new Prober("GET " + path, port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                200, Duration.ofMillis(200));
    }

    static Prober publish(int port) {
        String body = "{\"type\":\"probe\",\"data\":{\"n\":1}}";
        return new Prober("publish", port, "POST /api/sse/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body, 202,
                Duration.ofMillis(200));
    }

    /** One request on a new connection from 127.0.0.1; the status, or -1 without an answer within 5 s. */
    private int once() {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(request);
            InputStream in = s.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            for (int b; head.size() < 12 && (b = in.read()) >= 0;) {
                head.write(b);
            }
            String line = head.toString(StandardCharsets.ISO_8859_1);
            if (!line.startsWith("HTTP/1.1 ")) {
                return -1;
            }
            int status = Integer.parseInt(line.substring(9, 12));
            in.transferTo(OutputStreamSink.INSTANCE); // until the server closes (Connection: close)
            return status;
        } catch (Exception e) {
            return -1;
        }
    }

    private static final class OutputStreamSink extends java.io.OutputStream {
        static final OutputStreamSink INSTANCE = new OutputStreamSink();

        @Override
        public void write(int b) {
        }

        @Override
        public void write(byte[] b, int off, int len) {
        }
    }

    private void run() {
        while (running) {
            long t0 = System.nanoTime();
            int status = once();
            results.add(new Result(t0, (System.nanoTime() - t0) / 1_000_000, status));
            try {
                Thread.sleep(every.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    List<Result> results() {
        synchronized (results) {
            return List.copyOf(results);
        }
    }

    long failures() {
        return results().stream().filter(r -> r.status() != expected).count();
    }

    long maxMillis() {
        return results().stream().mapToLong(Result::millis).max().orElse(0);
    }

    long p50Millis() {
        List<Long> sorted = results().stream().map(Result::millis).sorted().toList();
        return sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
    }

    /** Share of answers that took at most {@code millis}. */
    double within(long millis) {
        List<Result> r = results();
        return r.isEmpty() ? 0 : (double) r.stream().filter(x -> x.millis() <= millis).count() / r.size();
    }

    String summary() {
        return String.format("%s: %d requests, %d failed, p50 %d ms, max %d ms, %.0f%% within 1 s", name,
                results().size(), failures(), p50Millis(), maxMillis(), 100 * within(1000));
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(6000);
    }
}
