package dev.ssehub.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The packaged service (target/quarkus-app) run as a real process, as in production. */
final class ServiceProcess implements AutoCloseable {

    static final Path JAR = Path.of("target", "quarkus-app", "quarkus-run.jar");
    /**
     * Authentication and rate limits off, for the tests of memory, shutdown and JVM options: they open and
     * publish in bursts from one address, and the prod profile needs a verification key otherwise (see
     * {@link #AUTH_ON}).
     */
    static final Map<String, String> OPEN = Map.of("SSE_AUTH_ENABLED", "false", "SSE_CONNECT_RATE", "0",
            "SSE_PUBLISH_RATE", "0");
    /** The prod profile's authentication with the fixed test keys (src/test/resources/keys). */
    static final Map<String, String> AUTH_ON = Map.of(
            "MP_JWT_VERIFY_PUBLICKEY_LOCATION", Path.of("src", "test", "resources", "keys", "rsa-public.pem").toAbsolutePath().toString(),
            "MP_JWT_VERIFY_ISSUER", "https://issuer.ssehub.test",
            "MP_JWT_VERIFY_AUDIENCES", "sse-hub");

    /** The two maps as one. */
    static Map<String, String> with(Map<String, String> a, Map<String, String> b) {
        Map<String, String> m = new java.util.HashMap<>(a);
        m.putAll(b);
        return m;
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    final Process process;
    final int port;

    private final Path log;

    private ServiceProcess(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    static ServiceProcess start(Map<String, String> env) throws IOException {
        return start(List.of(), env);
    }

    /** Starts the jar with these JVM options (before {@code -jar}) and environment. */
    static ServiceProcess start(List<String> jvmOptions, Map<String, String> env) throws IOException {
        return start(List.of(), jvmOptions, env);
    }

    /**
     * Starts the jar through a launcher (a command that ends by exec'ing its arguments, e.g. a shell that
     * lowers a limit first) with these JVM options and environment.
     */
    static ServiceProcess start(List<String> launcher, List<String> jvmOptions, Map<String, String> env) throws IOException {
        return start(freePort(), launcher, jvmOptions, env);
    }

    /** Starts the jar on this port (a restart of an instance keeps its address, as a proxy's backend). */
    static ServiceProcess startOn(int port, Map<String, String> env) throws IOException {
        return start(port, List.of(), List.of(), env);
    }

    private static ServiceProcess start(int port, List<String> launcher, List<String> jvmOptions, Map<String, String> env)
            throws IOException {
        if (!Files.exists(JAR)) {
            throw new IllegalStateException(JAR + " is missing: run ./mvnw verify (it packages before the ITs)");
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = Files.createTempFile("sse-hub-", ".log");
        List<String> command = new ArrayList<>(launcher);
        command.add(java);
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", JAR.toString()));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("QUARKUS_HTTP_PORT", Integer.toString(port));
        pb.environment().put("QUARKUS_HTTP_HOST", "127.0.0.1");
        pb.environment().putAll(env);
        return new ServiceProcess(pb.start(), port, log);
    }

    /** The file the process prints to. */
    Path log() {
        return log;
    }

    /** Everything the process printed so far. */
    String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Resident memory of the process, in MiB (Linux). */
    long rssMiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
            }
        }
        throw new IllegalStateException("no VmRSS for " + process.pid());
    }

    String base() {
        return "http://127.0.0.1:" + port;
    }

    /** Waits until the service answers its readiness probe with 200. */
    void awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("service exited with " + process.exitValue() + ":\n" + output());
            }
            if (status("/q/health/ready") == 200) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("service not ready within " + timeout + ":\n" + output());
    }

    /** POSTs JSON to the service. */
    HttpResponse<String> post(String path, String json) {
        return send(HttpRequest.newBuilder(URI.create(base() + path)).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    /** GETs from the service. */
    HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(30)).build());
    }

    private static HttpResponse<String> send(HttpRequest request) {
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    int status(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(base() + path))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** The value of a Prometheus sample line of {@code /q/metrics}, NaN when absent. */
    double metric(String sample) throws IOException, InterruptedException {
        String body = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/q/metrics")).timeout(Duration.ofSeconds(5))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        for (String line : body.split("\n")) {
            if (line.startsWith(sample + " ")) {
                return Double.parseDouble(line.substring(sample.length() + 1).trim());
            }
        }
        return Double.NaN;
    }

    /** Publishes and returns the event id (202 expected). */
    String publish(String json) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/api/sse/events"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 202) {
            throw new IllegalStateException("publish answered " + r.statusCode() + ": " + r.body());
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"id\":\"([^\"]+)\"").matcher(r.body());
        if (!m.find()) {
            throw new IllegalStateException("no id in " + r.body());
        }
        return m.group(1);
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
