package dev.ssehub.transport;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Stream;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Guards the HTTP server's connections before they are streams: a timeout for request heads, caps on
 * connections that carry no stream (per client address and in all), and a reserve of file descriptors for
 * health probes and metrics. Bodies are watched per request by the API (they are a router matter, and
 * HTTP/2 has them too); keep-alive idleness is Vert.x's idle timeout ({@code quarkus.http.idle-timeout}),
 * which the guard turns off on a connection while it carries a stream.
 *
 * <p><b>Admission</b>, on the acceptor thread, for each new connection, before Vert.x sets it up:
 * <ol>
 * <li>open connections at the file-descriptor limit less {@value #FD_MARGIN}: closed at once;
 * <li>its address holds {@code sse.http.max-pending-per-address} connections that are not streams: closed
 * at once (a browser's EventSource retries a closed connection, it would give up on an error status);
 * <li>{@code sse.http.max-pending} connections that are not streams are open, or the file-descriptor
 * limit less {@value #FD_RESERVE} is reached: the connection is taken from the reserve of
 * {@value #RESERVE_SLOTS}, where only health, readiness and metrics are served. A full reserve makes room
 * by closing a connection still waiting for its request head (the oldest of the address holding most of the
 * reserve), if there is one; else the new connection is closed at once;
 * <li>otherwise it is an ordinary connection.
 * </ol>
 * Closed at once means before any byte is read, so no accept error and no half-open connection result.
 *
 * <p>Netty gives no hook for new connections of a server it did not create, so the guard puts its acceptor
 * handler on the server's listening channel, which it reaches through the first request it sees
 * ({@link #requestStarted}); the service makes such a request to itself as soon as it listens.
 * Connections accepted before that are adopted at their first request.
 */
@ApplicationScoped
public class HttpGuard {

    private static final Logger LOG = Logger.getLogger(HttpGuard.class);
    /** File descriptors kept for the JVM itself: no connection is accepted into them. */
    static final int FD_MARGIN = 32;
    /** File descriptors below the limit from which new connections may only serve probes and metrics. */
    static final int FD_RESERVE = 256;
    /** Connections the reserve holds at most. */
    static final int RESERVE_SLOTS = 64;
    private static final long REPORT_NANOS = TimeUnit.MINUTES.toNanos(1);

    /** The guard's limits, from {@code sse.http.*}, {@code sse.max-batch-bytes} and Quarkus's HTTP settings. */
    public record Settings(Duration headerTimeout, int maxPending, int maxPendingPerAddress, Duration idleTimeout,
            int maxBodyBytes, long bodyTotalBytes, int maxInitialLineLength, int maxHeaderSize, int maxStreams) {
    }

    /** How a connection was admitted. */
    public enum Admission {
        /** An ordinary connection. */
        NORMAL,
        /** From the reserve: health, readiness and metrics only. */
        RESERVE
    }

    /** Why a connection was refused; the {@code reason} label of {@code sse_http_connections_refused_total}. */
    public enum Refused {
        /** Its address held {@code sse.http.max-pending-per-address} connections that are not streams. */
        PER_ADDRESS("per_address"),
        /** {@code sse.http.max-pending} was reached and the reserve was full. */
        MAX_PENDING("max_pending"),
        /** The process was out of file descriptors but for the margin (or the reserve was full). */
        FILE_DESCRIPTORS("file_descriptors"),
        /** A connection from the reserve asked for something else than health or metrics. */
        RESERVE("reserve"),
        /** A request's body did not fit in {@code sse.http.body-total-bytes} beside the bodies being read. */
        BODY_BUDGET("body_budget");

        private final String label;

        Refused(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** Why the guard closed a connection; the {@code reason} label of {@code sse_http_connections_closed_total}. */
    public enum Closed {
        HEADER_TIMEOUT("header_timeout"),
        BODY_TIMEOUT("body_timeout"),
        /** A reserve connection still waiting for its request head, closed to make room. */
        EVICTED("evicted");

        private final String label;

        Closed(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private final Settings settings;
    private final ProblemJson problems;
    private final Acceptor acceptor = new Acceptor();
    private final Set<Channel> servers = ConcurrentHashMap.newKeySet();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicLong bodyBytes = new AtomicLong();
    private final Map<InetAddress, AtomicInteger> pendingByAddress = new ConcurrentHashMap<>();
    private final Set<GuardedConnection> reserve = ConcurrentHashMap.newKeySet();
    private final LongAdder[] refused = adders(Refused.values().length);
    private final LongAdder[] closed = adders(Closed.values().length);
    private final LongAdder[] refusedSinceReport = adders(Refused.values().length);
    private final LongAdder[] closedSinceReport = adders(Closed.values().length);
    private final AtomicLong nextReport = new AtomicLong(System.nanoTime());
    /** Connections this process may hold before the reserve: file-descriptor limit less what else is open; 0 when unknown. */
    private volatile int fdSoft;
    private volatile int fdHard;

    @Inject
    public HttpGuard(Settings settings, ProblemJson problems) {
        this.settings = settings;
        this.problems = problems;
    }

    /**
     * Called for every request the router sees, on the connection's event loop, before anything else:
     * installs the acceptor on the server's listening channel the first time, adopts connections it did not
     * accept, and marks the request head complete. Returns how the connection was admitted.
     */
    public Admission requestStarted(HttpServerRequest request) {
        if (!(request.connection() instanceof ConnectionBase base)) {
            return Admission.NORMAL;
        }
        Channel ch = base.channel();
        if (ch.parent() instanceof ServerSocketChannel server && !servers.contains(server)) {
            install(server);
        }
        GuardedConnection c = ch.attr(GuardedConnection.KEY).get();
        if (c == null) {
            c = new GuardedConnection(this, ch, address(ch.remoteAddress()), false, false);
            ch.attr(GuardedConnection.KEY).set(c);
            if (request.version() != HttpVersion.HTTP_2) {
                c.adoptMidRequest(request.method());
            }
            return Admission.NORMAL;
        }
        c.requestStarted();
        return c.reserve ? Admission.RESERVE : Admission.NORMAL;
    }

    /**
     * Whether an HTTP/2 request may still send body bytes: its stream is open on the client's side. A request
     * whose head ended its stream (a POST with an empty body, as Java's HttpClient sends one) has none.
     * HTTP/1.x: true (the head says, by Content-Length or Transfer-Encoding).
     */
    public static boolean bodyMayFollow(HttpServerRequest request) {
        if (request.version() != HttpVersion.HTTP_2 || !(request.connection() instanceof ConnectionBase base)) {
            return true;
        }
        Http2ConnectionHandler h2 = base.channel().pipeline().get(Http2ConnectionHandler.class);
        Http2Stream stream = h2 == null ? null : h2.connection().stream(request.streamId());
        return stream != null && stream.state().remoteSideOpen();
    }

    /**
     * Room for a request body of this many bytes beside the bodies being read, within
     * {@code sse.http.body-total-bytes}: true and held until {@link #releaseBody}, or false (counted) when it
     * does not fit. The last {@code sse.max-batch-bytes} of the budget are kept for {@code small} bodies (one
     * event), so that large uploads, however slow, cannot keep ordinary publishes out.
     */
    public boolean reserveBody(long bytes, boolean small) {
        long limit = small ? settings.bodyTotalBytes() : settings.bodyTotalBytes() - settings.maxBodyBytes();
        for (;;) {
            long held = bodyBytes.get();
            if (held + bytes > limit) {
                count(Refused.BODY_BUDGET);
                return false;
            }
            if (bodyBytes.compareAndSet(held, held + bytes)) {
                return true;
            }
        }
    }

    /** The request whose body was reserved has ended. */
    public void releaseBody(long bytes) {
        bodyBytes.addAndGet(-bytes);
    }

    /** Bytes reserved for request bodies being read. */
    public long bodyBytes() {
        return bodyBytes.get();
    }

    public long bodyTotalBytes() {
        return settings.bodyTotalBytes();
    }

    /** A request body stalled below {@code sse.http.body-min-rate}; the API closed it. */
    public void bodyTimedOut() {
        count(Closed.BODY_TIMEOUT);
    }

    /** A reserve connection asked for something else than health or metrics; the API refused it. */
    public void reserveRefused() {
        count(Refused.RESERVE);
    }

    /** Connections that carry no stream. */
    public int pendingConnections() {
        return pending.get();
    }

    public long refused(Refused reason) {
        return refused[reason.ordinal()].sum();
    }

    public long closed(Closed reason) {
        return closed[reason.ordinal()].sum();
    }

    private synchronized void install(Channel server) {
        if (!servers.add(server)) {
            return;
        }
        server.closeFuture().addListener(f -> servers.remove(server));
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        String fds = "file-descriptor limit unknown: no reserve";
        if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            long max = unix.getMaxFileDescriptorCount();
            long others = Math.max(0, unix.getOpenFileDescriptorCount() - open.get());
            long room = max - others;
            if (room > FD_RESERVE + RESERVE_SLOTS && room < Integer.MAX_VALUE) {
                fdSoft = (int) (room - FD_RESERVE);
                fdHard = (int) (room - FD_MARGIN);
                fds = "file descriptors: limit " + max + ", " + others + " in other use; probes and metrics only from "
                        + fdSoft + " connections, none from " + fdHard;
                if (settings.maxStreams() > fdSoft) {
                    LOG.warnf("sse.max-clients (%d) is more than the %d connections this process has file descriptors "
                            + "for (limit %d, less %d in other use and a reserve of %d): raise the limit (ulimit -n) "
                            + "or lower it, else new connections are refused before it is reached",
                            settings.maxStreams(), fdSoft, max, others, FD_RESERVE);
                }
            }
        }
        server.pipeline().addFirst("sse-accept-guard", acceptor);
        LOG.infof("HTTP guard on %s: header timeout %s, at most %d connections without a stream (%d per address), "
                + "%s", server.localAddress(), settings.headerTimeout(), settings.maxPending(),
                settings.maxPendingPerAddress(), fds);
    }

    /** Admission of accepted connections; runs on the acceptor thread, before Vert.x sets the channel up. */
    @ChannelHandler.Sharable
    private final class Acceptor extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof Channel child)) {
                ctx.fireChannelRead(msg);
                return;
            }
            InetAddress address = address(child.remoteAddress());
            int openNow = open.get();
            Refused refusal = null;
            boolean fromReserve = false;
            if (fdHard > 0 && openNow >= fdHard) {
                refusal = Refused.FILE_DESCRIPTORS;
            } else if (address != null && pendingOf(address) >= settings.maxPendingPerAddress()) {
                refusal = Refused.PER_ADDRESS;
            } else if (pending.get() >= settings.maxPending() || (fdSoft > 0 && openNow >= fdSoft)) {
                fromReserve = true;
                if (reserve.size() >= RESERVE_SLOTS && !evictFromReserve()) {
                    refusal = fdSoft > 0 && openNow >= fdSoft ? Refused.FILE_DESCRIPTORS : Refused.MAX_PENDING;
                }
            }
            if (refusal != null) {
                count(refusal);
                child.unsafe().closeForcibly(); // not registered yet: no byte read, nothing set up
                return;
            }
            GuardedConnection c = new GuardedConnection(HttpGuard.this, child, address, fromReserve, true);
            open.incrementAndGet();
            enterPending(c);
            if (fromReserve) {
                reserve.add(c);
            }
            child.closeFuture().addListener(f -> closed(c));
            child.attr(GuardedConnection.KEY).set(c);
            child.pipeline().addLast(GuardedConnection.HEAD, c.new Head());
            ctx.fireChannelRead(child);
        }
    }

    /**
     * Makes room in the reserve: closes the oldest connection still waiting for its request head among those
     * of the address that holds most of the reserve, so that one address (or a few) flooding it cannot push
     * out a probe that simply has not been read yet. False when no reserve connection waits for its head.
     */
    private boolean evictFromReserve() {
        Map<InetAddress, Integer> held = new java.util.HashMap<>();
        for (GuardedConnection c : reserve) {
            if (c.awaitingHeaders) {
                held.merge(c.address, 1, Integer::sum);
            }
        }
        InetAddress most = null;
        int count = 0;
        for (Map.Entry<InetAddress, Integer> e : held.entrySet()) {
            if (e.getValue() > count) {
                most = e.getKey();
                count = e.getValue();
            }
        }
        GuardedConnection oldest = null;
        for (GuardedConnection c : reserve) {
            if (c.awaitingHeaders && java.util.Objects.equals(c.address, most)
                    && (oldest == null || c.awaitingSince - oldest.awaitingSince < 0)) {
                oldest = c;
            }
        }
        if (oldest == null || !reserve.remove(oldest)) {
            return false;
        }
        count(Closed.EVICTED);
        oldest.evict();
        return true;
    }

    private void closed(GuardedConnection c) {
        open.decrementAndGet();
        leavePending(c);
        reserve.remove(c);
    }

    void enterPending(GuardedConnection c) {
        if (c.counted && c.pending.compareAndSet(false, true)) {
            pending.incrementAndGet();
            if (c.address != null) {
                pendingByAddress.computeIfAbsent(c.address, a -> new AtomicInteger()).incrementAndGet();
            }
        }
    }

    void leavePending(GuardedConnection c) {
        if (c.counted && c.pending.compareAndSet(true, false)) {
            pending.decrementAndGet();
            if (c.address != null) {
                pendingByAddress.computeIfPresent(c.address, (a, n) -> n.decrementAndGet() <= 0 ? null : n);
            }
        }
    }

    private int pendingOf(InetAddress address) {
        AtomicInteger n = pendingByAddress.get(address);
        return n == null ? 0 : n.get();
    }

    void closedFor(Closed reason) {
        count(reason);
    }

    private void count(Refused r) {
        refused[r.ordinal()].increment();
        refusedSinceReport[r.ordinal()].increment();
        report();
    }

    private void count(Closed r) {
        closed[r.ordinal()].increment();
        closedSinceReport[r.ordinal()].increment();
        report();
    }

    /** At most one line a minute, with what happened since the last one; the first event reports at once. */
    private void report() {
        long now = System.nanoTime();
        long next = nextReport.get();
        if (now - next < 0 || !nextReport.compareAndSet(next, now + REPORT_NANOS)) {
            return;
        }
        StringBuilder sb = new StringBuilder();
        for (Refused r : Refused.values()) {
            long n = refusedSinceReport[r.ordinal()].sumThenReset();
            if (n > 0) {
                sb.append(sb.isEmpty() ? "" : ", ").append(n).append(" refused (").append(r.label()).append(')');
            }
        }
        for (Closed r : Closed.values()) {
            long n = closedSinceReport[r.ordinal()].sumThenReset();
            if (n > 0) {
                sb.append(sb.isEmpty() ? "" : ", ").append(n).append(" closed (").append(r.label()).append(')');
            }
        }
        if (!sb.isEmpty()) {
            LOG.warnf("HTTP connections since the last report: %s; %d connections without a stream open. "
                    + "Metrics: sse_http_connections_refused_total, sse_http_connections_closed_total", sb,
                    pending.get());
        }
    }

    ProblemJson problems() {
        return problems;
    }

    long headerTimeoutNanos() {
        return settings.headerTimeout().toNanos();
    }

    String headerTimeoutText() {
        return settings.headerTimeout().toString().substring(2).toLowerCase();
    }

    long idleTimeoutMillis() {
        return settings.idleTimeout().toMillis();
    }

    int maxBodyBytes() {
        return settings.maxBodyBytes();
    }

    int maxInitialLineLength() {
        return settings.maxInitialLineLength();
    }

    int maxHeaderSize() {
        return settings.maxHeaderSize();
    }

    private static InetAddress address(SocketAddress a) {
        return a instanceof InetSocketAddress inet ? inet.getAddress() : null;
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }
}
