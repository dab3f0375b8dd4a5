package dev.ssehub.transport;

import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.impl.Http1xOrH2CHandler;

/**
 * One HTTP connection under {@link HttpGuard}: which phase it is in, its header timer, and the two Netty
 * handlers that watch it. All state but {@link #pending} and {@link #awaitingHeaders} belongs to the
 * connection's event loop.
 *
 * <ul>
 * <li>{@link Head}, the first handler of the pipeline (inbound only, so the stream's direct socket writes
 * still find no outbound handler below the HTTP encoder), sees the raw bytes: the first bytes of a request
 * start its header timer. While Vert.x is still deciding between HTTP/1.x and HTTP/2 (h2c), it hands it the
 * bytes one at a time, so that {@link Http} is in place before the first request is decoded.
 * <li>{@link Http}, right after the HTTP/1.x encoder, sees decoded requests and the responses Vert.x writes:
 * a complete request head stops the header timer; a {@code text/event-stream} response head makes the
 * connection a stream (no longer pending, Vert.x's idle timeout off: its writes may bypass the pipeline,
 * and its heartbeats and {@code sse.client-timeout} watch it), the end of that response makes it an
 * ordinary keep-alive connection again; an error response the HTTP layer sent with an empty body (a
 * malformed request, 414, 431, a CORS refusal, a 413 over the HTTP limit) gets a problem+json body.
 * </ul>
 */
final class GuardedConnection {

    static final AttributeKey<GuardedConnection> KEY = AttributeKey.valueOf("sse-hub.guard");
    static final String HEAD = "sse-guard";
    static final String HTTP = "sse-guard-http";
    /** Vert.x's name for its idle-timeout handler. */
    private static final String IDLE = "idle";

    /** A request whose response is not written yet: what a refusal body needs to know about it. */
    private record Request(HttpMethod method, Throwable failure, String origin, String uri) {
    }

    final HttpGuard guard;
    final Channel channel;
    final InetAddress address;
    /** Accepted from the reserve of file descriptors: may only serve probes and metrics. */
    final boolean reserve;
    /** Counted by the acceptor (false for connections that were open before the guard was installed). */
    final boolean counted;

    /** Counts toward the pending caps: not carrying a stream. */
    final AtomicBoolean pending = new AtomicBoolean();
    /** The header timer runs (for the reserve's eviction, read from the acceptor thread). */
    volatile boolean awaitingHeaders;
    volatile long awaitingSince;

    private boolean detected;
    private boolean http1;
    private boolean h2;
    private ChannelHandlerContext httpContext;
    private ScheduledFuture<?> headerTimer;
    /** Between a decoded request head and the end of its body. */
    private boolean requestOpen;
    /** Between a final response head and the end of that response. */
    private boolean responseOpen;
    private boolean streaming;
    /** The open request's body has no declared length (chunked): counted here against the limit. */
    private boolean chunked;
    private long bodyBytes;
    /** A body went over the limit: the rest of the connection's input is dropped until it closes. */
    private boolean discarding;
    private final ArrayDeque<Request> unanswered = new ArrayDeque<>(2);

    GuardedConnection(HttpGuard guard, Channel channel, InetAddress address, boolean reserve, boolean counted) {
        this.guard = guard;
        this.channel = channel;
        this.address = address;
        this.reserve = reserve;
        this.counted = counted;
        // The head of an accepted connection is awaited from the accept on, before its loop has even set it up.
        this.awaitingSince = System.nanoTime();
        this.awaitingHeaders = counted;
    }

    /**
     * For a connection that was already open when the guard was installed: watch it from its current
     * request on (loop thread).
     */
    void adoptMidRequest(io.vertx.core.http.HttpMethod method) {
        ChannelPipeline p = channel.pipeline();
        p.addFirst(HEAD, new Head());
        detected = true;
        requestOpen = true;
        unanswered.add(new Request(HttpMethod.valueOf(method.name()), null, null, null));
        installHttp(p);
    }

    /** A request reached the router: its head is complete whatever the handlers saw (loop thread). */
    void requestStarted() {
        disarm();
    }

    boolean carriesStream() {
        return streaming;
    }

    private void detect(ChannelPipeline p) {
        if (detected || p.get(Http1xOrH2CHandler.class) != null) {
            return;
        }
        if (p.get("httpEncoder") != null) {
            detected = true;
            installHttp(p);
        } else if (p.get("handler") != null) {
            // HTTP/2 with prior knowledge (or TLS with ALPN h2): its streams are multiplexed frames, which
            // Vert.x's idle timeout and HTTP/2's own limits govern; it no longer waits for a request head.
            detected = true;
            h2 = true;
            disarm();
            guard.leavePending(this);
        }
    }

    private void installHttp(ChannelPipeline p) {
        if (p.get(HTTP) == null && p.get("httpEncoder") != null) {
            p.addAfter("httpEncoder", HTTP, new Http());
            http1 = true;
        }
    }

    private void arm() {
        if (headerTimer == null && !h2) {
            if (!awaitingHeaders) {
                awaitingSince = System.nanoTime();
                awaitingHeaders = true;
            }
            headerTimer = channel.eventLoop().schedule(this::headerTimedOut, guard.headerTimeoutNanos(),
                    TimeUnit.NANOSECONDS);
        }
    }

    private void disarm() {
        if (headerTimer != null) {
            headerTimer.cancel(false);
            headerTimer = null;
        }
        awaitingHeaders = false;
    }

    private void headerTimedOut() {
        if (headerTimer == null || !channel.isActive()) {
            return;
        }
        headerTimer = null;
        awaitingHeaders = false;
        guard.closedFor(HttpGuard.Closed.HEADER_TIMEOUT);
        if (http1 && httpContext != null && !responseOpen && unanswered.isEmpty()) {
            // Nothing of a response is on the wire: say why before closing.
            writeProblem(httpContext, HttpVersion.HTTP_1_1, HttpResponseStatus.REQUEST_TIMEOUT, "request-timeout",
                    "Request timeout", "The request line and headers did not arrive within "
                            + guard.headerTimeoutText() + " (sse.http.header-timeout)",
                    channel.newPromise()).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }

    /**
     * Closes a reserve connection that still waits for its request head, to make room (acceptor thread). It has
     * been handed to its loop (the acceptor registers a connection before it accepts the next), so the task
     * runs there after its registration.
     */
    void evict() {
        channel.eventLoop().execute(() -> {
            if (awaitingHeaders && channel.isOpen()) {
                disarm();
                channel.close();
            }
        });
    }

    private io.netty.channel.ChannelFuture writeProblem(ChannelHandlerContext ctx, HttpVersion version,
            HttpResponseStatus status, String slug, String title, String detail, ChannelPromise promise) {
        byte[] body = guard.problems().encode(slug, title, status.code(), detail);
        FullHttpResponse r = new DefaultFullHttpResponse(version, status, Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/problem+json")
                .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        return ctx.writeAndFlush(r, promise);
    }

    /** The raw side: first bytes of a request, HTTP/1.x versus HTTP/2 detection. */
    final class Head extends ChannelInboundHandlerAdapter {

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            arm();
            detect(ctx.pipeline());
            super.channelActive(ctx);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!requestOpen && !streaming) {
                arm(); // the first bytes of a request head; a no-op while its timer already runs
            }
            if (detected || !(msg instanceof ByteBuf buf)) {
                ctx.fireChannelRead(msg);
                return;
            }
            ChannelPipeline p = ctx.pipeline();
            // Vert.x's HTTP/1.x-or-h2c handler configures the pipeline when a byte tells the protocol apart
            // from the HTTP/2 preface, and passes what it read on at once: one byte at a time, the guard's
            // HTTP handler is in place before a whole request head reaches the decoder.
            while (buf.isReadable() && p.get(Http1xOrH2CHandler.class) != null) {
                ctx.fireChannelRead(buf.readRetainedSlice(1));
            }
            detect(p);
            if (buf.isReadable()) {
                ctx.fireChannelRead(buf);
            } else {
                buf.release();
            }
        }
    }

    /** The HTTP/1.x side: request heads in, response heads and ends out. */
    final class Http extends ChannelDuplexHandler {

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            httpContext = ctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (discarding) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (msg instanceof HttpRequest r) {
                disarm();
                requestOpen = true;
                chunked = HttpUtil.isTransferEncodingChunked(r);
                bodyBytes = 0;
                unanswered.add(new Request(r.method(),
                        r.decoderResult().isFailure() ? r.decoderResult().cause() : null,
                        r.headers().get(HttpHeaderNames.ORIGIN), r.uri()));
            }
            if (chunked && msg instanceof HttpContent c) {
                bodyBytes += c.content().readableBytes();
                if (bodyBytes > guard.maxBodyBytes()) {
                    ReferenceCountUtil.release(msg);
                    bodyTooLarge(ctx);
                    return;
                }
            }
            if (msg instanceof LastHttpContent) {
                requestOpen = false;
            }
            super.channelRead(ctx, msg);
        }

        /**
         * A chunked body went over {@code sse.max-batch-bytes} (a declared length over it is refused before the
         * body is read): nothing more of it reaches Vert.x; 413 if no response has begun, and the connection goes.
         */
        private void bodyTooLarge(ChannelHandlerContext ctx) {
            discarding = true;
            if (!responseOpen && unanswered.size() == 1) {
                Request q = unanswered.poll();
                writeProblem(ctx, HttpVersion.HTTP_1_1, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                        Refusal.BODY_TOO_LARGE.slug, Refusal.BODY_TOO_LARGE.title,
                        Refusal.BODY_TOO_LARGE.detail(guard, 413, null, q.origin(), q.uri()), ctx.newPromise())
                        .addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.close();
            }
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (msg instanceof HttpResponse r) {
                int code = r.status().code();
                if (code == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
                    h2 = true; // h2c upgrade: from now on HTTP/2 frames
                    disarm();
                    guard.leavePending(GuardedConnection.this);
                } else if (code >= 200) {
                    Request q = unanswered.poll();
                    responseOpen = true;
                    if (msg instanceof FullHttpResponse full && code >= 400 && full.content().readableBytes() == 0
                            && !full.headers().contains(HttpHeaderNames.CONTENT_TYPE)
                            && (q == null || !HttpMethod.HEAD.equals(q.method()))) {
                        msg = withProblem(full, q);
                        full.release();
                    } else if (isEventStream(r)) {
                        startStream(ctx.pipeline());
                    }
                }
            }
            if (msg instanceof LastHttpContent && responseOpen) {
                responseOpen = false;
                if (streaming) {
                    endStream(ctx.pipeline());
                }
            }
            super.write(ctx, msg, promise);
        }

        private FullHttpResponse withProblem(FullHttpResponse empty, Request q) {
            int code = empty.status().code();
            Throwable failure = q == null ? null : q.failure();
            String origin = q == null ? null : q.origin();
            String uri = q == null ? null : q.uri();
            Refusal why = Refusal.of(code, origin);
            String title = why.title != null ? why.title : empty.status().reasonPhrase();
            String slug = why.slug != null ? why.slug : title.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
            byte[] body = guard.problems().encode(slug, title, code, why.detail(guard, code, failure, origin, uri));
            FullHttpResponse r = new DefaultFullHttpResponse(empty.protocolVersion(), empty.status(),
                    Unpooled.wrappedBuffer(body), empty.headers().copy(), empty.trailingHeaders().copy());
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/problem+json")
                    .set(HttpHeaderNames.CONTENT_LENGTH, body.length);
            return r;
        }
    }

    private static boolean isEventStream(HttpResponse r) {
        String type = r.headers().get(HttpHeaderNames.CONTENT_TYPE);
        return r.status().code() == 200 && type != null && type.regionMatches(true, 0, "text/event-stream", 0, 17);
    }

    private void startStream(ChannelPipeline p) {
        streaming = true;
        guard.leavePending(this);
        if (p.get(IDLE) instanceof IdleStateHandler) {
            p.remove(IDLE);
        }
    }

    private void endStream(ChannelPipeline p) {
        streaming = false;
        if (!channel.isActive()) {
            return;
        }
        long idle = guard.idleTimeoutMillis();
        if (idle > 0 && p.get(IDLE) == null && p.get("handler") != null) {
            p.addBefore("handler", IDLE, new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS));
        }
        guard.enterPending(this);
    }

    /** Refusals the HTTP layer answers itself, with the problem type each one gets. */
    enum Refusal {
        MALFORMED(400, "invalid-request", "Invalid request"),
        ORIGIN(403, "origin-not-allowed", "Origin not allowed"),
        BODY_TOO_LARGE(413, "body-too-large", "Request body too large"),
        URI_TOO_LONG(414, "uri-too-long", "URI too long"),
        HEADERS_TOO_LARGE(431, "headers-too-large", "Request header fields too large"),
        OTHER(0, null, null);

        final int status;
        final String slug;
        final String title;

        Refusal(int status, String slug, String title) {
            this.status = status;
            this.slug = slug;
            this.title = title;
        }

        static Refusal of(int status, String origin) {
            for (Refusal r : values()) {
                if (r.status == status && (r != ORIGIN || origin != null)) {
                    return r;
                }
            }
            return OTHER;
        }

        String detail(HttpGuard g, int status, Throwable failure, String origin, String uri) {
            return switch (this) {
                case MALFORMED -> failure != null
                        ? "Malformed HTTP request: " + clip(failure instanceof TooLongFrameException
                                ? "a line or header is too long" : String.valueOf(failure.getMessage()))
                        : uri != null && !validTarget(uri)
                                ? "The request target is not a valid URI (characters outside RFC 3986 or a % not "
                                        + "followed by two hexadecimal digits)"
                                : "Malformed HTTP request";
                case ORIGIN -> "Origin " + clip(origin) + " is not allowed to call this service (sse.cors.origins)";
                case BODY_TOO_LARGE -> "The request body is larger than " + g.maxBodyBytes()
                        + " bytes (sse.max-batch-bytes)";
                case URI_TOO_LONG -> "The request line is longer than " + g.maxInitialLineLength()
                        + " bytes (quarkus.http.limits.max-initial-line-length)";
                case HEADERS_TOO_LARGE -> "The request headers are larger than " + g.maxHeaderSize()
                        + " bytes (quarkus.http.limits.max-header-size)";
                case OTHER -> "Refused by the HTTP layer (" + HttpResponseStatus.valueOf(status).reasonPhrase() + ")";
            };
        }

        /** RFC 3986 characters, and every {@code %} followed by two hexadecimal digits. */
        static boolean validTarget(String uri) {
            for (int i = 0; i < uri.length(); i++) {
                char c = uri.charAt(i);
                if (c == '%') {
                    if (i + 2 >= uri.length() || Character.digit(uri.charAt(i + 1), 16) < 0
                            || Character.digit(uri.charAt(i + 2), 16) < 0) {
                        return false;
                    }
                } else if (c <= ' ' || c >= 0x7f || "\"<>\\^`{|}".indexOf(c) >= 0) {
                    return false;
                }
            }
            return true;
        }

        private static String clip(String s) {
            return s.length() <= 200 ? s : s.substring(0, 200) + "…";
        }
    }
}
