package dev.ssehub.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import dev.ssehub.support.TestRedis;
import io.restassured.path.json.JsonPath;

/**
 * The rolling-update rehearsal (issue #13): two packaged instances on one real Redis, behind a round-robin
 * TCP proxy; 200 clients that behave as EventSource (reconnect with Last-Event-ID after the stream ends,
 * honouring {@code retry:}) connect through the proxy; events are published at 50/s, alternately on both
 * instances, never retried. Each instance in turn gets SIGTERM (its drain closes its streams spread over
 * sse.shutdown.drain and the clients move to the other one through the proxy), is started again on the
 * same port and must be ready before the next. Then every client must have received every accepted
 * event exactly once, in order, no event whose publish was refused, and no replay_truncated.
 *
 * <p>The instances run the prod profile with the production defaults (drain 5 s, retry 3 s). The figures
 * go to standard output and to target/rolling-update/report.txt, the instances' logs beside it.
 */
class RollingUpdateIT {

    static final int CLIENTS = 200;
    static final long PUBLISH_PERIOD_MILLIS = 20; // 50 events/s
    static final Duration SETTLE = Duration.ofSeconds(3);
    static final Path OUT = Path.of("target", "rolling-update");

    /** What became of one publish. */
    enum Outcome {
        ACCEPTED, REFUSED_503, UNREACHABLE, UNKNOWN
    }

    record Publish(Outcome outcome, String id, int instance, String detail, String phase) {
    }

    @Test
    void eachInstanceRestartedInTurnEveryClientGetsEveryEventOnceInOrder() throws Exception {
        long started = System.nanoTime();
        Files.createDirectories(OUT);
        List<String> report = new ArrayList<>();
        List<ServiceProcess> everyProcess = new ArrayList<>();
        List<EventSourceClient> clients = new ArrayList<>();
        Publisher publisher = null;
        RoundRobinProxy proxy = null;
        try (TestRedis redis = TestRedis.start(!"false".equals(System.getProperty("rehearsal.redis-persistent")))) {
            Map<String, String> env = new HashMap<>(ServiceProcess.with(ServiceProcess.OPEN,
                    Map.of("SSE_BACKPLANE", "redis", "QUARKUS_REDIS_HOSTS", redis.url())));
            // Experiments: -Drehearsal.env.QUARKUS_REDIS_MAX_POOL_WAITING=100 sets that variable for the instances.
            System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("rehearsal.env."))
                    .forEach(k -> env.put(k.substring("rehearsal.env.".length()), System.getProperty(k)));
            report.add("instances' environment: " + new TreeMap<>(env));
            int[] ports = { ServiceProcess.freePort(), ServiceProcess.freePort() };
            ServiceProcess[] instance = new ServiceProcess[2];
            for (int i = 0; i < 2; i++) {
                instance[i] = ServiceProcess.startOn(ports[i], env);
                everyProcess.add(instance[i]);
            }
            for (ServiceProcess p : instance) {
                p.awaitReady(Duration.ofSeconds(90));
            }
            proxy = new RoundRobinProxy(List.of(ports[0], ports[1]));

            HttpClient browser = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            String url = "http://127.0.0.1:" + proxy.port() + "/api/sse/stream";
            for (int i = 0; i < CLIENTS; i++) {
                clients.add(new EventSourceClient(browser, url, "eventsource-" + i));
            }
            await(Duration.ofSeconds(60), "every client's first stream",
                    () -> clients.stream().allMatch(c -> c.established() >= 1));
            report.add(String.format("streams before the first restart: instance 0 %d, instance 1 %d",
                    streams(instance[0]), streams(instance[1])));

            publisher = new Publisher(ports);
            Thread.sleep(SETTLE.toMillis());

            for (int i = 0; i < 2; i++) {
                publisher.phase = "instance " + i + " draining";
                int held = streams(instance[i]);
                long openedBefore = metric(instance[i], "sse_connections_opened_total");
                long term = System.nanoTime();
                instance[i].process.destroy(); // SIGTERM
                // Near the end of the drain the instance still answers: the streams opened on it meanwhile are
                // clients that reconnected to it (a new connection the proxy gave it, or a kept-alive one).
                Thread.sleep(4000);
                long openedDuringDrain = metric(instance[i], "sse_connections_opened_total") - openedBefore;
                if (!instance[i].process.waitFor(6, TimeUnit.SECONDS)) {
                    // 10 s after SIGTERM, twice the drain: what is it still doing?
                    threadDump(instance[i], OUT.resolve("instance-" + i + "-threads-10s-after-sigterm.txt"));
                }
                assertTrue(instance[i].process.waitFor(30, TimeUnit.SECONDS), "instance " + i + " exited after SIGTERM");
                long exited = System.nanoTime();
                publisher.phase = "instance " + i + " restarting";
                int exit = instance[i].process.exitValue();
                assertEquals(143, exit, "instance " + i + " ended as a JVM ends on SIGTERM:\n" + instance[i].output());
                instance[i] = ServiceProcess.startOn(ports[i], env);
                everyProcess.add(instance[i]);
                instance[i].awaitReady(Duration.ofSeconds(90));
                long ready = System.nanoTime();
                publisher.phase = "instance " + i + " ready again";
                report.add(String.format("instance %d: SIGTERM with %d streams open; %s streams opened on it in the first 4 s "
                        + "of its drain (and closed again); exited (%d) %.1f s after SIGTERM, started again and ready %.1f s "
                        + "later", i, held, openedDuringDrain < 0 ? "?" : Long.toString(openedDuringDrain), exit,
                        seconds(exited - term), seconds(ready - exited)));
                Thread.sleep(SETTLE.toMillis());
            }
            publisher.stop();

            Map<Long, Publish> outcomes = publisher.outcomes();
            TreeMap<EventKey, Long> accepted = new TreeMap<>();
            outcomes.forEach((n, p) -> {
                if (p.outcome() == Outcome.ACCEPTED) {
                    accepted.put(EventKey.of(p.id()), n);
                }
            });
            assertTrue(accepted.size() > 500, "events accepted: " + accepted.size());
            EventKey last = accepted.lastKey();
            // A client stuck short of it is reported by the check below, with what it got and how it failed.
            boolean caughtUp = within(Duration.ofSeconds(60),
                    () -> clients.stream().allMatch(c -> c.lastEventId() != null && EventKey.of(c.lastEventId()).compareTo(last) >= 0));
            Thread.sleep(1000); // anything arriving late (a repeat) arrives now
            clients.forEach(EventSourceClient::close);

            List<String> problems = new ArrayList<>();
            if (!caughtUp) {
                problems.add("not every client received the last accepted event " + last + " within 60 s of the last publish");
            }
            problems.addAll(check(clients, outcomes, accepted));
            report.addAll(0, summary(clients, outcomes, proxy, started));
            writeReport(report, problems);
            assertTrue(problems.isEmpty(), "the rehearsal found problems (details in " + OUT.resolve("report.txt") + "):\n"
                    + String.join("\n", problems.subList(0, Math.min(40, problems.size()))));
        } finally {
            if (publisher != null) {
                publisher.stop();
            }
            clients.forEach(EventSourceClient::close);
            if (proxy != null) {
                proxy.close();
            }
            for (int i = 0; i < everyProcess.size(); i++) {
                ServiceProcess p = everyProcess.get(i);
                p.close();
                Files.copy(p.log(), OUT.resolve("instance-" + (i < 2 ? i : i - 2) + (i < 2 ? "-first" : "-restarted") + ".log"),
                        StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** Every client: every accepted event once, in id order, nothing refused, no truncation; unknown publishes all or none. */
    static List<String> check(List<EventSourceClient> clients, Map<Long, Publish> outcomes, TreeMap<EventKey, Long> accepted) {
        List<String> problems = new ArrayList<>();
        Map<Long, Integer> unknownSeen = new HashMap<>();
        for (int c = 0; c < clients.size(); c++) {
            EventSourceClient client = clients.get(c);
            List<EventSourceClient.Received> got = client.events();
            Set<EventKey> seen = new HashSet<>();
            EventSourceClient.Received previous = null;
            for (EventSourceClient.Received r : got) {
                EventKey k = EventKey.of(r.id());
                if (previous != null && k.compareTo(EventKey.of(previous.id())) <= 0) {
                    problems.add(String.format("client %d: %s (data %d, connection %d) after %s (data %d, connection %d): %s",
                            c, r.id(), r.data(), r.connection(), previous.id(), previous.data(), previous.connection(),
                            seen.contains(k) ? "a repeat" : "out of order"));
                }
                seen.add(k);
                previous = r;
                Publish p = outcomes.get(r.data());
                if (p == null) {
                    problems.add("client " + c + ": event " + r.id() + " with data " + r.data() + " that was never published");
                } else if (p.outcome() == Outcome.ACCEPTED && !p.id().equals(r.id())) {
                    problems.add("client " + c + ": data " + r.data() + " under id " + r.id() + ", accepted as " + p.id());
                } else if (p.outcome() == Outcome.REFUSED_503 || p.outcome() == Outcome.UNREACHABLE) {
                    problems.add("client " + c + ": received event " + r.id() + " (data " + r.data() + ") whose publish was "
                            + p.outcome() + " (" + p.detail() + ")");
                } else if (p.outcome() == Outcome.UNKNOWN) {
                    unknownSeen.merge(r.data(), 1, Integer::sum);
                }
            }
            List<String> missing = new ArrayList<>();
            accepted.forEach((k, n) -> {
                if (!seen.contains(k)) {
                    missing.add(k + " (data " + n + ")");
                }
            });
            if (!missing.isEmpty()) {
                problems.add("client " + c + ": " + missing.size() + " accepted events missing, first "
                        + missing.subList(0, Math.min(5, missing.size())) + "; last id received " + client.lastEventId()
                        + ", connections " + client.connections() + ", failures " + client.failures());
            }
            if (!client.truncations().isEmpty()) {
                problems.add("client " + c + ": replay_truncated " + client.truncations());
            }
            if (client.non200() > 0) {
                // A browser's EventSource gives up for good on a response other than 200.
                problems.add("client " + c + ": " + client.non200() + " stream requests answered other than 200: " + client.failures());
            }
            if (client.connections() < 2) {
                problems.add("client " + c + ": never reconnected (" + client.connections() + " connection): the rehearsal did not move it");
            }
        }
        unknownSeen.forEach((n, count) -> {
            if (count != clients.size()) {
                problems.add("publish " + n + " (no answer: " + outcomes.get(n).detail() + ") reached " + count + " of "
                        + clients.size() + " clients");
            }
        });
        return problems;
    }

    static List<String> summary(List<EventSourceClient> clients, Map<Long, Publish> outcomes, RoundRobinProxy proxy, long started) {
        Map<Outcome, Integer> count = new TreeMap<>();
        outcomes.values().forEach(p -> count.merge(p.outcome(), 1, Integer::sum));
        long connections = clients.stream().mapToLong(EventSourceClient::connections).sum();
        long streams = clients.stream().mapToLong(EventSourceClient::established).sum();
        long received = clients.stream().mapToLong(c -> c.events().size()).sum();
        int minConn = clients.stream().mapToInt(EventSourceClient::connections).min().orElse(0);
        int maxConn = clients.stream().mapToInt(EventSourceClient::connections).max().orElse(0);
        Set<Long> retry = new HashSet<>();
        clients.forEach(c -> retry.add(c.retryMillis()));
        List<String> out = new ArrayList<>();
        out.add(String.format("RollingUpdateIT: %d clients through a round-robin proxy to two instances on Redis, %d publishes "
                + "at 50/s alternately on both: %s", clients.size(), outcomes.size(), count));
        out.add(String.format("clients: %d requests (%d reconnections; per client %d..%d), %d streams started, retry %s ms, "
                + "%d events received in all", connections, connections - clients.size(), minConn, maxConn, streams, retry, received));
        out.add(String.format("proxy: instance 0 got %d connections (%d connects refused), instance 1 got %d (%d refused), "
                + "%d client connections closed with no instance up", proxy.accepted(0), proxy.connectFailures(0),
                proxy.accepted(1), proxy.connectFailures(1), proxy.refused()));
        Map<String, Integer> publishes = new TreeMap<>();
        outcomes.values().stream().filter(p -> p.outcome() != Outcome.ACCEPTED).forEach(p -> publishes.merge(
                p.outcome() + " on instance " + p.instance() + " (" + p.phase() + "): " + shorten(p.detail()), 1, Integer::sum));
        publishes.forEach((what, n) -> out.add(String.format("  %4d x %s", n, what)));
        Map<String, Integer> requests = new TreeMap<>();
        clients.forEach(c -> c.outcomes().forEach((what, n) -> requests.merge(shorten(what), n, Integer::sum)));
        out.add("stream requests:");
        requests.forEach((what, n) -> out.add(String.format("  %4d x %s", n, what)));
        out.add(String.format("time: %.1f s in all", seconds(System.nanoTime() - started)));
        return out;
    }

    static void writeReport(List<String> report, List<String> problems) throws IOException {
        List<String> lines = new ArrayList<>(report);
        lines.add(problems.isEmpty() ? "every client received every accepted event exactly once, in order; nothing refused arrived"
                : problems.size() + " problems:");
        lines.addAll(problems);
        Files.write(OUT.resolve("report.txt"), lines);
        report.forEach(System.out::println);
    }

    static void threadDump(ServiceProcess p, Path to) {
        try {
            String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
            Process d = new ProcessBuilder(jcmd, Long.toString(p.process.pid()), "Thread.print").redirectErrorStream(true)
                    .redirectOutput(to.toFile()).start();
            d.waitFor(20, TimeUnit.SECONDS);
        } catch (IOException e) {
            // no jcmd: no dump
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Open streams of an instance, from its metrics. */
    static int streams(ServiceProcess p) {
        return (int) metric(p, "sse_connections_active");
    }

    /** An unlabelled metric of an instance, -1 if it does not answer. */
    static long metric(ServiceProcess p, String name) {
        try {
            HttpResponse<String> r = p.get("/q/metrics");
            Matcher m = Pattern.compile("(?m)^" + name + " ([0-9.E+]+)$").matcher(r.body());
            return m.find() ? (long) Double.parseDouble(m.group(1)) : -1;
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /** A failure's description without what differs between occurrences (ports, ids, timestamps). */
    static String shorten(String detail) {
        String d = detail.replaceAll("\\d{10,}-\\d+", "<id>").replaceAll("127\\.0\\.0\\.1:\\d+", "127.0.0.1:<port>")
                .replaceAll("\"timestamp\":\"[^\"]*\"", "").replaceAll("\"instance\":\"[^\"]*\"", "");
        return d.length() > 200 ? d.substring(0, 200) + "..." : d;
    }

    static void await(Duration timeout, String what, BooleanSupplier done) throws InterruptedException {
        if (!within(timeout, done)) {
            throw new AssertionError("not within " + timeout + ": " + what);
        }
    }

    static boolean within(Duration timeout, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(100);
        }
        return true;
    }

    static double seconds(long nanos) {
        return nanos / 1e9;
    }

    /** An event id, {@code <millis>-<sequence>}, in id order. */
    record EventKey(long millis, long seq) implements Comparable<EventKey> {
        static EventKey of(String id) {
            int dash = id.indexOf('-');
            return new EventKey(Long.parseLong(id.substring(0, dash)), Long.parseLong(id.substring(dash + 1)));
        }

        @Override
        public int compareTo(EventKey o) {
            return Comparator.comparingLong(EventKey::millis).thenComparingLong(EventKey::seq).compare(this, o);
        }

        @Override
        public String toString() {
            return millis + "-" + seq;
        }
    }

    /**
     * Publishes {@code {"type":"t","data":n}} to every stream every 20 ms, alternately on both instances
     * directly (as backends publish), never retrying: each publish's outcome is recorded as it comes.
     */
    static final class Publisher {
        private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();
        private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "publisher");
            t.setDaemon(true);
            return t;
        });
        private final Map<Long, Publish> outcomes = new ConcurrentSkipListMap<>();
        private final Set<CompletableFuture<?>> inFlight = ConcurrentHashMap.newKeySet();
        private final AtomicLong next = new AtomicLong();
        private final int[] ports;
        volatile String phase = "both up";

        Publisher(int[] ports) {
            this.ports = ports;
            timer.scheduleAtFixedRate(this::publishOne, 0, PUBLISH_PERIOD_MILLIS, TimeUnit.MILLISECONDS);
        }

        private void publishOne() {
            long n = next.getAndIncrement();
            int i = (int) (n % 2);
            HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports[i] + "/api/sse/events"))
                    .header("Content-Type", "application/json").timeout(Duration.ofSeconds(15))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"t\",\"data\":" + n + "}")).build();
            String during = phase;
            CompletableFuture<?> f = http.sendAsync(req, HttpResponse.BodyHandlers.ofString()).handle((r, t) -> {
                outcomes.put(n, outcome(r, t, i, during));
                return null;
            });
            inFlight.add(f);
            f.whenComplete((v, t) -> inFlight.remove(f));
        }

        private static Publish outcome(HttpResponse<String> r, Throwable t, int instance, String phase) {
            if (t != null) {
                for (Throwable c = t; c != null; c = c.getCause()) {
                    if (c instanceof ConnectException || c instanceof HttpConnectTimeoutException) {
                        return new Publish(Outcome.UNREACHABLE, null, instance, c.toString(), phase);
                    }
                }
                return new Publish(Outcome.UNKNOWN, null, instance, t.toString(), phase);
            }
            if (r.statusCode() == 202) {
                return new Publish(Outcome.ACCEPTED, JsonPath.from(r.body()).getString("id"), instance, "202", phase);
            }
            if (r.statusCode() == 503) {
                return new Publish(Outcome.REFUSED_503, null, instance, "503 " + r.body(), phase);
            }
            return new Publish(Outcome.UNKNOWN, null, instance, r.statusCode() + " " + r.body(), phase);
        }

        void stop() throws InterruptedException {
            timer.shutdownNow();
            timer.awaitTermination(5, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!inFlight.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
        }

        /** Every publish sent, by sequence number; only those answered (or failed) by now. */
        Map<Long, Publish> outcomes() {
            long sent = next.get();
            Map<Long, Publish> out = new TreeMap<>(outcomes);
            for (long n = 0; n < sent; n++) {
                out.putIfAbsent(n, new Publish(Outcome.UNKNOWN, null, (int) (n % 2), "no answer within 30 s", "?"));
            }
            return out;
        }
    }
}
