package dev.ssehub.it;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Many raw client connections from a chosen loopback source address, and one selector thread that notes
 * when the server answers or closes each of them: what an attacker's connections look like from outside.
 */
final class Sockets implements AutoCloseable {

    /** One connection: when it was opened, when the server first answered or closed it, and what it said. */
    static final class Conn {
        final SocketChannel channel;
        final long openedNanos;
        volatile long endedNanos;
        volatile String firstBytes = "";

        Conn(SocketChannel channel) {
            this.channel = channel;
            this.openedNanos = System.nanoTime();
        }

        boolean ended() {
            return endedNanos != 0;
        }

        long endedAfterMillis() {
            return (endedNanos - openedNanos) / 1_000_000;
        }
    }

    private final Selector selector;
    private final List<Conn> conns = new ArrayList<>();
    private final Thread thread;
    private volatile boolean closing;

    Sockets() throws IOException {
        selector = Selector.open();
        thread = new Thread(this::watch, "raw-sockets");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Connects from {@code source} and writes {@code bytes}; a connection the server refuses at once counts as
     * ended then. Returns the connection.
     */
    Conn open(String source, int port, byte[] bytes) throws IOException {
        SocketChannel ch = SocketChannel.open();
        ch.setOption(StandardSocketOptions.SO_LINGER, 0);
        ch.bind(new InetSocketAddress(source, 0));
        ch.connect(new InetSocketAddress("127.0.0.1", port));
        Conn c = new Conn(ch);
        try {
            ch.write(ByteBuffer.wrap(bytes));
        } catch (IOException refused) {
            c.endedNanos = System.nanoTime();
            c.firstBytes = "reset";
        }
        ch.configureBlocking(false);
        synchronized (this) {
            conns.add(c);
            selector.wakeup();
            ch.register(selector, SelectionKey.OP_READ, c);
        }
        return c;
    }

    synchronized List<Conn> all() {
        return List.copyOf(conns);
    }

    private void watch() {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        try {
            while (!closing) {
                selector.select(50);
                synchronized (this) {
                    // registration happens under the lock after a wakeup
                }
                for (SelectionKey k : selector.selectedKeys()) {
                    Conn c = (Conn) k.attachment();
                    buf.clear();
                    int n;
                    try {
                        n = c.channel.read(buf);
                    } catch (IOException reset) {
                        n = -1;
                        if (c.firstBytes.isEmpty()) {
                            c.firstBytes = "reset";
                        }
                    }
                    if (n > 0 && c.firstBytes.isEmpty()) {
                        c.firstBytes = new String(buf.array(), 0, n, StandardCharsets.ISO_8859_1);
                    }
                    if (c.endedNanos == 0) {
                        c.endedNanos = System.nanoTime();
                    }
                    if (n < 0) {
                        k.cancel();
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException | RuntimeException e) {
            if (!closing) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Override
    public void close() throws Exception {
        closing = true;
        thread.join(2000);
        for (Conn c : all()) {
            c.channel.close();
        }
        selector.close();
    }
}
