package dev.ssehub.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A round-robin TCP proxy on loopback, as a Kubernetes Service's proxying does at layer 4: each new client
 * connection goes to the next backend, and a backend whose connect fails (it is restarting) is skipped
 * for the next. Bytes are copied both ways untouched; when either side closes, both are closed. It knows
 * nothing of HTTP: a kept-alive client connection stays with the backend it was given.
 */
final class RoundRobinProxy implements AutoCloseable {

    private final ServerSocket server;
    private final List<Integer> backends;
    private final AtomicInteger next = new AtomicInteger();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicLongArray accepted;
    private final AtomicLongArray connectFailures;
    private final AtomicInteger refused = new AtomicInteger();
    private final Thread acceptor;
    private volatile boolean closed;

    RoundRobinProxy(List<Integer> backendPorts) throws IOException {
        this.backends = List.copyOf(backendPorts);
        this.accepted = new AtomicLongArray(backends.size());
        this.connectFailures = new AtomicLongArray(backends.size());
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress("127.0.0.1", 0), 1024);
        this.acceptor = new Thread(this::acceptLoop, "proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Client connections forwarded to backend {@code i}. */
    long accepted(int i) {
        return accepted.get(i);
    }

    /** Connects to backend {@code i} that failed (and went to the next backend). */
    long connectFailures(int i) {
        return connectFailures.get(i);
    }

    /** Client connections closed at once because no backend accepted. */
    int refused() {
        return refused.get();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            Thread t = new Thread(() -> route(client), "proxy-route");
            t.setDaemon(true);
            t.start();
        }
    }

    private void route(Socket client) {
        int start = Math.floorMod(next.getAndIncrement(), backends.size());
        for (int k = 0; k < backends.size(); k++) {
            int i = (start + k) % backends.size();
            Socket upstream = new Socket();
            try {
                upstream.setTcpNoDelay(true);
                upstream.connect(new InetSocketAddress("127.0.0.1", backends.get(i)), 2000);
            } catch (IOException e) {
                connectFailures.incrementAndGet(i);
                closeQuietly(upstream);
                continue;
            }
            accepted.incrementAndGet(i);
            try {
                client.setTcpNoDelay(true);
            } catch (IOException e) {
                // the client is already gone: the pumps will see it
            }
            open.add(client);
            open.add(upstream);
            pump(client, upstream, "proxy-up");
            pump(upstream, client, "proxy-down");
            return;
        }
        refused.incrementAndGet();
        closeQuietly(client);
    }

    private void pump(Socket from, Socket to, String name) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side closed or reset
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, name);
        t.setDaemon(true);
        t.start();
    }

    private void closeQuietly(Socket s) {
        open.remove(s);
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        for (Socket s : open) {
            closeQuietly(s);
        }
    }
}
