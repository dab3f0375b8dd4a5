/*
 * sseload.c - SSE load driver: opens N Server-Sent-Events streams, optionally publishes K events over
 * HTTP, and reports ONE JSON line (latency histogram, completeness, throughput, its own CPU time).
 *
 * Single-threaded, level-triggered epoll: one process uses at most one core. When the driver's own CPU
 * time (driver_cpu_s in the JSON) approaches the wall time of the measured phase, the driver is the
 * bottleneck and the figures are a lower bound of the server's capacity. See bench/README.md.
 *
 * Build: gcc -O2 -Wall -Wextra -o sseload sseload.c
 * Run `sseload --help` for the options.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* ------------------------------------------------------------------ time */
static int64_t now_us(void) { /* wall clock: the ts carried in events */
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}
static int64_t mono_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* ------------------------------------------------------------------ histogram
 * HDR-like: values (microseconds) below 256 are exact; above, every power of two is split into 128
 * sub-buckets (relative width <= 1/128, reported value = bucket midpoint: error <= 0.4%). 42*128 buckets
 * cover up to 2^48 us. bench/merge.py mirrors hval() to merge histograms of several processes. */
#define SUB_BITS 7
#define SUB (1 << SUB_BITS)
#define HBUCKETS (42 * SUB)
typedef struct {
    uint64_t c[HBUCKETS];
    uint64_t n;
    int64_t max;
} hist_t;

static int hidx(int64_t v) {
    if (v < 0) v = 0;
    if (v < 2 * SUB) return (int)v;
    int e = 63 - __builtin_clzll((unsigned long long)v);
    int m = (int)((v >> (e - SUB_BITS)) & (SUB - 1));
    int i = 2 * SUB + (e - SUB_BITS - 1) * SUB + m;
    return i < HBUCKETS ? i : HBUCKETS - 1;
}
static int64_t hval(int i) {
    if (i < 2 * SUB) return i;
    int e = (i - 2 * SUB) / SUB + SUB_BITS + 1;
    int m = (i - 2 * SUB) % SUB;
    int64_t w = (int64_t)1 << (e - SUB_BITS);
    return ((int64_t)(SUB + m) << (e - SUB_BITS)) + w / 2;
}
static void hadd(hist_t *h, int64_t v) {
    if (v < 0) v = 0;
    h->c[hidx(v)]++;
    h->n++;
    if (v > h->max) h->max = v;
}
static int64_t hpct(const hist_t *h, double q) {
    if (!h->n) return 0;
    uint64_t target = (uint64_t)(q * (double)h->n + 0.999999);
    if (target < 1) target = 1;
    uint64_t cum = 0;
    for (int i = 0; i < HBUCKETS; i++) {
        cum += h->c[i];
        if (cum >= target) {
            int64_t v = hval(i);
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}

/* ------------------------------------------------------------------ options */
static const char *o_host = "127.0.0.1", *o_path = "/api/sse/stream", *o_path_fmt, *o_label = "run";
static int o_port, o_streams = 1, o_src_ips, o_stream_offset, o_expect_streams = -1;
static double o_connect_timeout = 60, o_hold = 10, o_deadline = 300, o_linger = 10;
static const char *o_mode = "fanout";
static int o_expect = -1, o_events, o_pub_conns = 4, o_pipeline = 32, o_settle_ms = 1000, o_max_pending = 1000;
static double o_rate;
static const char *o_pub_host, *o_pub_path, *o_pub_body = "{\"seq\":{seq},\"ts\":{ts}}";
static int o_pub_port;
static const char *o_ready_file, *o_done_file, *o_stop_file, *o_wait_files;
static int o_emit_hist;

static void usage(void) {
    fprintf(stderr,
"usage: sseload --port P [options]\n"
"streams:\n"
"  --host H                 server address (127.0.0.1)\n"
"  --path P                 stream path (/api/sse/stream)\n"
"  --path-fmt F             per-stream path, %%d = stream index (overrides --path)\n"
"  --streams N              streams to open (1)\n"
"  --stream-offset O        first stream index (for --procs splits) (0)\n"
"  --src-ips K              bind stream i to 127.0.0.(2 + i %% K) (0 = kernel's choice)\n"
"  --max-pending M          streams connecting at once, 0 = unlimited (1000)\n"
"  --connect-timeout-s S    give up on streams not established after S s (60)\n"
"  --mode idle|fanout|storm (fanout)\n"
"  --hold-s S               idle mode: hold the streams S s (10)\n"
"  --expect-events K        events every expecting stream must get (defaults to --events)\n"
"  --expect-streams M       only streams with index < M expect events, the others none (all)\n"
"  --deadline-s D           hard cap on the whole run, from start (300)\n"
"  --linger-s L             after the last publish answer, wait at most L s for deliveries (10)\n"
"  --label NAME             copied into the JSON line\n"
"publishing (fanout mode):\n"
"  --publish-url-host H --publish-url-port P --publish-url-path PATH\n"
"  --publish-body-fmt T     body template, {seq} and {ts} (epoch us) replaced ({\"seq\":{seq},\"ts\":{ts}})\n"
"  --events K               events to publish, seq 1..K\n"
"  --rate R                 events/s; 0 = burst (pipelined on one keep-alive connection)\n"
"  --publish-conns C        keep-alive connections used in rate mode (4)\n"
"  --pipeline W             requests in flight in burst mode (32; 1 = back to back)\n"
"  --settle-ms MS           pause between all streams established and the first publish (1000)\n"
"coordination (several processes):\n"
"  --ready-file F           written once the connect phase is over\n"
"  --wait-files F1,F2,..    publish only once all these files exist\n"
"  --done-file F            written when this process ends\n"
"  --stop-file F            end as soon as this file exists\n"
"  --emit-hist              add the raw latency histogram to the JSON (for bench/merge.py)\n");
    exit(2);
}

/* ------------------------------------------------------------------ streams */
enum { S_NEW = 0, S_CONNECTING, S_HEADERS, S_OPEN, S_CLOSED, S_FAILED };
enum { C_SIZE = 0, C_EXT, C_DATA, C_DCRLF, C_END };

typedef struct {
    int fd;
    uint8_t st, chunked, cst, has_seq, has_ts, expects, overflow;
    uint32_t got;
    int64_t last_seq, seq, ts, t0;
    uint64_t crem;
    char *buf; /* response header bytes, then the partial SSE line */
    uint32_t blen, bcap;
    uint64_t *bits;
} stream_t;

static stream_t *S;
static int N, K;
static int ep;
static char rbuf[256 * 1024];

/* counters */
static int n_exp_gone, n_established, n_failed, n_pending, n_closed_early, n_timeout, n_next, n_complete, n_expecting;
static uint64_t deliveries, duplicates, out_of_order, misdelivered, unexpected_seq, bytes_read, frames_other;
static uint64_t err_connect, err_status, err_read, err_proto;
static int64_t first_delivery_us, last_delivery_us, first_publish_us, last_est_mono, start_mono;
static hist_t lat, conn_h, rtt_h;
static int ending;

#define TAG_STREAM 1ULL
#define TAG_PUB 2ULL
#define TAG_TIMER 3ULL
#define MKTAG(t, i) (((t) << 32) | (uint32_t)(i))

static void sbuf_append(stream_t *s, const char *p, size_t n, size_t cap_max) {
    if (s->blen + n > cap_max) {
        s->overflow = 1;
        return;
    }
    if (s->blen + n > s->bcap) {
        uint32_t c = s->bcap ? s->bcap : 256;
        while (c < s->blen + n) c *= 2;
        char *nb = realloc(s->buf, c);
        if (!nb) { perror("realloc"); exit(1); }
        s->buf = nb;
        s->bcap = c;
    }
    memcpy(s->buf + s->blen, p, n);
    s->blen += (uint32_t)n;
}

static int parse_int_after(const char *p, size_t n, const char *key, size_t klen, int64_t *out) {
    const char *k = memmem(p, n, key, klen);
    if (!k) return 0;
    const char *q = k + klen, *end = p + n;
    while (q < end && (*q == ' ' || *q == '\t')) q++;
    int neg = 0;
    if (q < end && *q == '-') { neg = 1; q++; }
    if (q >= end || *q < '0' || *q > '9') return 0;
    int64_t v = 0;
    while (q < end && *q >= '0' && *q <= '9') v = v * 10 + (*q++ - '0');
    *out = neg ? -v : v;
    return 1;
}

static void dispatch(stream_t *s, int64_t now) {
    if (!(s->has_seq && s->has_ts)) {
        frames_other++;
        return;
    }
    s->has_seq = s->has_ts = 0;
    int64_t seq = s->seq;
    deliveries++;
    if (!first_delivery_us) first_delivery_us = now;
    last_delivery_us = now;
    hadd(&lat, now - s->ts);
    if (!s->expects) {
        misdelivered++;
        return;
    }
    if (seq < 1 || seq > K) {
        unexpected_seq++;
        return;
    }
    uint64_t bit = 1ULL << ((seq - 1) & 63), *w = &s->bits[(seq - 1) >> 6];
    if (*w & bit) {
        duplicates++;
        return;
    }
    *w |= bit;
    if (seq < s->last_seq) out_of_order++;
    else s->last_seq = seq;
    if (++s->got == (uint32_t)K) n_complete++;
}

static void sse_line(stream_t *s, const char *p, size_t n, int64_t now) {
    if (n && p[n - 1] == '\r') n--;
    if (n == 0) {
        dispatch(s, now);
        return;
    }
    if (n >= 5 && memcmp(p, "data:", 5) == 0) {
        if (parse_int_after(p, n, "\"seq\":", 6, &s->seq)) s->has_seq = 1;
        if (parse_int_after(p, n, "\"ts\":", 5, &s->ts)) s->has_ts = 1;
    }
    /* id:, event:, retry: and ":" comments need nothing */
}

static void sse_feed(stream_t *s, const char *p, size_t n, int64_t now) {
    while (n) {
        const char *nl = memchr(p, '\n', n);
        if (!nl) {
            sbuf_append(s, p, n, 65536);
            return;
        }
        size_t len = (size_t)(nl - p);
        if (s->blen || s->overflow) {
            sbuf_append(s, p, len, 65536);
            if (s->overflow) err_proto++; /* a line over 64 KiB: ignored */
            else sse_line(s, s->buf, s->blen, now);
            s->blen = 0;
            s->overflow = 0;
        } else {
            sse_line(s, p, len, now);
        }
        p = nl + 1;
        n -= len + 1;
    }
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* body bytes: de-chunk when needed, then SSE */
static void body_feed(stream_t *s, const char *p, size_t n, int64_t now) {
    if (!s->chunked) {
        sse_feed(s, p, n, now);
        return;
    }
    while (n) {
        switch (s->cst) {
        case C_SIZE: {
            int v = hexval(*p);
            if (v >= 0) s->crem = s->crem * 16 + (uint64_t)v;
            else if (*p == '\n') s->cst = s->crem ? C_DATA : C_END;
            else s->cst = C_EXT; /* '\r' or ';ext' */
            p++, n--;
            break;
        }
        case C_EXT:
            if (*p == '\n') s->cst = s->crem ? C_DATA : C_END;
            p++, n--;
            break;
        case C_DATA: {
            size_t m = n < s->crem ? n : (size_t)s->crem;
            sse_feed(s, p, m, now);
            p += m, n -= m;
            s->crem -= m;
            if (!s->crem) s->cst = C_DCRLF;
            break;
        }
        case C_DCRLF:
            if (*p == '\n') s->cst = C_SIZE;
            p++, n--;
            break;
        default: /* last chunk seen: ignore trailers */
            return;
        }
    }
}

static char *path_for(int gi, char *buf, size_t cap) {
    if (!o_path_fmt) return (char *)o_path;
    size_t o = 0;
    for (const char *f = o_path_fmt; *f && o + 16 < cap; f++) {
        if (f[0] == '%' && f[1] == 'd') {
            o += (size_t)snprintf(buf + o, cap - o, "%d", gi);
            f++;
        } else {
            buf[o++] = *f;
        }
    }
    buf[o] = 0;
    return buf;
}

static struct sockaddr_in srv_addr, pub_addr;

static void stream_fail(stream_t *s, int timeout) {
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    if (s->st == S_CONNECTING || s->st == S_HEADERS) n_pending--;
    s->st = S_FAILED;
    if (s->expects) n_exp_gone++;
    n_failed++;
    if (timeout) n_timeout++;
    free(s->buf);
    s->buf = NULL;
    s->blen = s->bcap = 0;
}

static void stream_connect(int i) {
    stream_t *s = &S[i];
    int gi = o_stream_offset + i;
    s->t0 = mono_us();
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    n_pending++;
    s->st = S_CONNECTING;
    if (s->fd < 0) {
        err_connect++;
        stream_fail(s, 0);
        return;
    }
    if (o_src_ips > 0) {
        int one = 1;
        setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        struct sockaddr_in b = { .sin_family = AF_INET };
        b.sin_addr.s_addr = htonl((127u << 24) | (uint32_t)(2 + gi % o_src_ips));
        if (bind(s->fd, (struct sockaddr *)&b, sizeof b) < 0) {
            err_connect++;
            stream_fail(s, 0);
            return;
        }
    }
    if (connect(s->fd, (struct sockaddr *)&srv_addr, sizeof srv_addr) < 0 && errno != EINPROGRESS) {
        err_connect++;
        stream_fail(s, 0);
        return;
    }
    struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = MKTAG(TAG_STREAM, i) };
    epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
}

static void stream_send_request(int i) {
    stream_t *s = &S[i];
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) {
        err_connect++;
        stream_fail(s, 0);
        return;
    }
    char pb[1024], req[2048];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n"
                     "User-Agent: sseload\r\n\r\n",
                     path_for(o_stream_offset + i, pb, sizeof pb), o_host, o_port);
    if (write(s->fd, req, (size_t)n) != n) {
        err_connect++;
        stream_fail(s, 0);
        return;
    }
    s->st = S_HEADERS;
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = MKTAG(TAG_STREAM, i) };
    epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
}

static void stream_closed(stream_t *s) {
    if (s->st == S_OPEN) {
        if (!ending) n_closed_early++;
        if (s->expects && s->got < (uint32_t)K) n_exp_gone++;
        close(s->fd);
        s->fd = -1;
        s->st = S_CLOSED;
    } else {
        err_connect++;
        stream_fail(s, 0);
    }
}

static void stream_headers(int i, const char *p, size_t n, int64_t now) {
    stream_t *s = &S[i];
    const char *hb = p;
    size_t hn = n;
    if (s->blen) { /* headers split over several reads */
        sbuf_append(s, p, n, 16384);
        hb = s->buf;
        hn = s->blen;
    }
    const char *end = memmem(hb, hn, "\r\n\r\n", 4);
    if (!end) {
        if (hb == p) sbuf_append(s, p, n, 16384);
        if (s->overflow) {
            err_proto++;
            stream_fail(s, 0);
        }
        return;
    }
    size_t hlen = (size_t)(end - hb) + 4;
    int status = 0;
    if (hn > 12 && strncmp(hb, "HTTP/1.", 7) == 0) status = atoi(hb + 9);
    if (status != 200) {
        err_status++;
        stream_fail(s, 0);
        return;
    }
    for (const char *q = hb; q < end;) {
        const char *eol = memmem(q, (size_t)(end - q) + 2, "\r\n", 2);
        if (!eol) break;
        if (eol - q > 18 && strncasecmp(q, "transfer-encoding:", 18) == 0 && memmem(q, (size_t)(eol - q), "chunked", 7))
            s->chunked = 1;
        q = eol + 2;
    }
    s->st = S_OPEN;
    n_pending--;
    n_established++;
    int64_t m = mono_us();
    last_est_mono = m;
    hadd(&conn_h, m - s->t0);
    size_t rest = hn - hlen;
    if (hb == p) {
        s->blen = 0;
        if (rest) body_feed(s, p + hlen, rest, now);
    } else {
        char tmp[16384];
        memcpy(tmp, hb + hlen, rest);
        s->blen = 0;
        s->overflow = 0;
        if (rest) body_feed(s, tmp, rest, now);
    }
}

static void stream_readable(int i) {
    stream_t *s = &S[i];
    for (int k = 0; k < 4 && s->fd >= 0; k++) {
        ssize_t r = read(s->fd, rbuf, sizeof rbuf);
        if (r > 0) {
            bytes_read += (uint64_t)r;
            int64_t now = now_us();
            if (s->st == S_HEADERS) stream_headers(i, rbuf, (size_t)r, now);
            else if (s->st == S_OPEN) body_feed(s, rbuf, (size_t)r, now);
            if ((size_t)r < sizeof rbuf) return;
        } else if (r == 0) {
            stream_closed(s);
            return;
        } else {
            if (errno == EAGAIN || errno == EINTR) return;
            err_read++;
            stream_closed(s);
            return;
        }
    }
}

/* ------------------------------------------------------------------ publisher */
#define RING 4096
typedef struct {
    int fd, st; /* 0 none, 1 connecting, 2 open */
    char *out;
    size_t olen, ooff, ocap;
    char *in;
    size_t ilen, icap;
    int64_t sent[RING];
    int head, outstanding;
} pubc_t;

static pubc_t *P;
static int NP;
static int pub_overlaps, pub_next = 1, pub_sent, pub_2xx, pub_non2xx, pub_errors, pub_done;
static int64_t pub_start_mono, pub_done_mono, pub_first_mono, lag_max_us;
static int timer_fd = -1;

static void pub_connect(int c) {
    pubc_t *p = &P[c];
    p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->fd < 0) { perror("socket"); exit(1); }
    int one = 1;
    setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(p->fd, (struct sockaddr *)&pub_addr, sizeof pub_addr) < 0 && errno != EINPROGRESS) {
        close(p->fd);
        p->fd = -1;
        p->st = 0;
        pub_errors++;
        return;
    }
    p->st = 1;
    struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.u64 = MKTAG(TAG_PUB, c) };
    epoll_ctl(ep, EPOLL_CTL_ADD, p->fd, &ev);
}

static void pub_close(int c) {
    pubc_t *p = &P[c];
    if (p->fd >= 0) close(p->fd);
    p->fd = -1;
    p->st = 0;
    pub_errors += p->outstanding;
    p->outstanding = 0;
    p->olen = p->ooff = p->ilen = 0;
}

static void pub_flush(int c) {
    pubc_t *p = &P[c];
    if (p->st != 2) return;
    while (p->ooff < p->olen) {
        ssize_t w = write(p->fd, p->out + p->ooff, p->olen - p->ooff);
        if (w > 0) p->ooff += (size_t)w;
        else if (w < 0 && (errno == EAGAIN || errno == EINTR)) break;
        else {
            pub_close(c);
            return;
        }
    }
    if (p->ooff == p->olen) p->ooff = p->olen = 0;
    struct epoll_event ev = { .events = EPOLLIN | (p->olen ? EPOLLOUT : 0), .data.u64 = MKTAG(TAG_PUB, c) };
    epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &ev);
}

/* builds the request for seq with ts = now and queues it on connection c */
static void pub_queue(int c, int seq) {
    pubc_t *p = &P[c];
    if (p->st == 0) pub_connect(c);
    char body[4096], hdr[1024];
    size_t b = 0;
    int64_t ts = now_us();
    for (const char *f = o_pub_body; *f && b + 32 < sizeof body; f++) {
        if (!strncmp(f, "{seq}", 5)) {
            b += (size_t)snprintf(body + b, sizeof body - b, "%d", seq);
            f += 4;
        } else if (!strncmp(f, "{ts}", 4)) {
            b += (size_t)snprintf(body + b, sizeof body - b, "%" PRId64, ts);
            f += 3;
        } else {
            body[b++] = *f;
        }
    }
    int h = snprintf(hdr, sizeof hdr,
                     "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     o_pub_path, o_pub_host, o_pub_port, b);
    size_t need = p->olen + (size_t)h + b;
    if (need > p->ocap) {
        size_t cap = p->ocap ? p->ocap : 8192;
        while (cap < need) cap *= 2;
        p->out = realloc(p->out, cap);
        if (!p->out) { perror("realloc"); exit(1); }
        p->ocap = cap;
    }
    memcpy(p->out + p->olen, hdr, (size_t)h);
    memcpy(p->out + p->olen + h, body, b);
    p->olen += (size_t)h + b;
    int64_t m = mono_us();
    for (int k = 0; k < NP; k++)
        if (P[k].outstanding) {
            pub_overlaps++; /* sent while another publish was unanswered: their order is not guaranteed */
            break;
        }
    p->sent[(p->head + p->outstanding) % RING] = m;
    p->outstanding++;
    pub_sent++;
    if (!first_publish_us) {
        first_publish_us = ts;
        pub_first_mono = m;
    }
}

/* One complete response at the start of buf? 1 = yes (*used, *status set), 0 = need more, -1 = bad. */
static int resp_parse(const char *buf, size_t len, size_t *used, int *status, int at_eof) {
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end) return 0;
    if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0) return -1;
    *status = atoi(buf + 9);
    size_t h = (size_t)(end - buf) + 4;
    long clen = -1;
    int chunked = 0;
    for (const char *q = buf; q < end;) {
        const char *eol = memmem(q, (size_t)(end - q) + 2, "\r\n", 2);
        if (!eol) break;
        if (eol - q > 15 && strncasecmp(q, "content-length:", 15) == 0) clen = atol(q + 15);
        if (eol - q > 18 && strncasecmp(q, "transfer-encoding:", 18) == 0 && memmem(q, (size_t)(eol - q), "chunked", 7))
            chunked = 1;
        q = eol + 2;
    }
    if (*status == 204 || *status == 304 || *status < 200) clen = 0;
    if (chunked) {
        size_t o = h;
        for (;;) {
            const char *eol = memmem(buf + o, len - o, "\r\n", 2);
            if (!eol) return 0;
            unsigned long sz = strtoul(buf + o, NULL, 16);
            o = (size_t)(eol - buf) + 2;
            if (sz == 0) { /* trailers until an empty line */
                for (;;) {
                    const char *e2 = memmem(buf + o, len - o, "\r\n", 2);
                    if (!e2) return 0;
                    size_t l2 = (size_t)(e2 - (buf + o));
                    o += l2 + 2;
                    if (l2 == 0) {
                        *used = o;
                        return 1;
                    }
                }
            }
            if (len - o < sz + 2) return 0;
            o += sz + 2;
        }
    }
    if (clen < 0) { /* delimited by close */
        if (!at_eof) return 0;
        *used = len;
        return 1;
    }
    if (len - h < (size_t)clen) return 0;
    *used = h + (size_t)clen;
    return 1;
}

static void pub_fill(void);

static void pub_readable(int c) {
    pubc_t *p = &P[c];
    int eof = 0;
    if (p->ilen + 65536 > p->icap) {
        p->icap = p->ilen + 65536;
        p->in = realloc(p->in, p->icap);
        if (!p->in) { perror("realloc"); exit(1); }
    }
    ssize_t r = read(p->fd, p->in + p->ilen, p->icap - p->ilen);
    if (r > 0) p->ilen += (size_t)r;
    else if (r == 0) eof = 1;
    else if (errno == EAGAIN || errno == EINTR) return;
    else eof = 1;
    size_t off = 0;
    int64_t m = mono_us();
    while (p->outstanding > 0) {
        size_t used = 0;
        int status = 0;
        int k = resp_parse(p->in + off, p->ilen - off, &used, &status, eof);
        if (k == 0) break;
        if (k < 0) {
            pub_close(c);
            return;
        }
        off += used;
        hadd(&rtt_h, m - p->sent[p->head]);
        p->head = (p->head + 1) % RING;
        p->outstanding--;
        if (status >= 200 && status < 300) pub_2xx++;
        else pub_non2xx++;
    }
    if (off) {
        memmove(p->in, p->in + off, p->ilen - off);
        p->ilen -= off;
    }
    if (eof) pub_close(c);
    pub_fill();
}

static int64_t due_mono(int seq) { return pub_start_mono + (int64_t)((double)(seq - 1) * 1e6 / o_rate); }

static void arm_timer(int64_t at_mono) {
    struct itimerspec its = { 0 };
    its.it_value.tv_sec = at_mono / 1000000;
    its.it_value.tv_nsec = (at_mono % 1000000) * 1000;
    if (!its.it_value.tv_sec && !its.it_value.tv_nsec) its.it_value.tv_nsec = 1;
    timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* send what the schedule (rate) or the window (burst) allows */
static void pub_fill(void) {
    if (!pub_start_mono || pub_done) return;
    if (o_rate <= 0) {
        int queued = 0;
        while (pub_next <= o_events && P[0].outstanding < o_pipeline && P[0].outstanding < RING) {
            pub_queue(0, pub_next++);
            queued = 1;
        }
        if (queued) pub_flush(0);
    } else {
        int64_t m = mono_us();
        while (pub_next <= o_events && m >= due_mono(pub_next)) {
            int best = -1;
            for (int c = 0; c < NP; c++) { /* an idle open connection first, else the least loaded */
                if (P[c].outstanding >= RING) continue;
                if (best < 0 || (P[c].st == 2) > (P[best].st == 2) ||
                    ((P[c].st == 2) == (P[best].st == 2) && P[c].outstanding < P[best].outstanding))
                    best = c;
            }
            if (best < 0) break;
            int64_t lag = m - due_mono(pub_next);
            if (lag > lag_max_us) lag_max_us = lag;
            pub_queue(best, pub_next++);
            pub_flush(best);
            m = mono_us();
        }
        if (pub_next <= o_events) arm_timer(due_mono(pub_next));
    }
    if (pub_next > o_events) {
        int out = 0;
        for (int c = 0; c < NP; c++) out += P[c].outstanding;
        if (!out) {
            pub_done = 1;
            pub_done_mono = mono_us();
        }
    }
}

static void pub_event(int c, uint32_t evs) {
    pubc_t *p = &P[c];
    if (p->st == 1) {
        if (evs & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
            int err = 0;
            socklen_t l = sizeof err;
            getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &l);
            if (err) {
                pub_close(c);
                pub_errors++;
                return;
            }
            p->st = 2;
            pub_flush(c);
        }
        return;
    }
    if (evs & EPOLLOUT) pub_flush(c);
    if (p->st == 2 && (evs & (EPOLLIN | EPOLLHUP | EPOLLERR))) pub_readable(c);
}

/* ------------------------------------------------------------------ main */
static int file_exists(const char *f) {
    struct stat st;
    return stat(f, &st) == 0;
}
static void touch(const char *f, const char *text) {
    if (!f) return;
    FILE *fp = fopen(f, "w");
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
}
static int wait_files_ok(void) {
    if (!o_wait_files) return 1;
    char tmp[8192];
    snprintf(tmp, sizeof tmp, "%s", o_wait_files);
    for (char *sv, *t = strtok_r(tmp, ",", &sv); t; t = strtok_r(NULL, ",", &sv))
        if (*t && !file_exists(t)) return 0;
    return 1;
}

static volatile sig_atomic_t got_signal;
static void on_signal(int s) { (void)s; got_signal = 1; }

static int resolve(const char *h, int port, struct sockaddr_in *a) {
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (!strcmp(h, "localhost")) h = "127.0.0.1";
    return inet_pton(AF_INET, h, &a->sin_addr) == 1 ? 0 : -1;
}

static void json_pct(const char *name, const hist_t *h, int comma) {
    printf("\"%s\":{\"n\":%" PRIu64 ",\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}%s", name, h->n,
           hpct(h, 0.5) / 1000.0, hpct(h, 0.9) / 1000.0, hpct(h, 0.99) / 1000.0, hpct(h, 0.999) / 1000.0,
           h->max / 1000.0, comma ? "," : "");
}

static void json_str(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    putchar('"');
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (!strcmp(a, name) && v && (i++, 1))
        if (OPT("--host")) o_host = v;
        else if (OPT("--port")) o_port = atoi(v);
        else if (OPT("--path")) o_path = v;
        else if (OPT("--path-fmt")) o_path_fmt = v;
        else if (OPT("--streams")) o_streams = atoi(v);
        else if (OPT("--stream-offset")) o_stream_offset = atoi(v);
        else if (OPT("--src-ips")) o_src_ips = atoi(v);
        else if (OPT("--max-pending")) o_max_pending = atoi(v);
        else if (OPT("--connect-timeout-s")) o_connect_timeout = atof(v);
        else if (OPT("--mode")) o_mode = v;
        else if (OPT("--hold-s")) o_hold = atof(v);
        else if (OPT("--expect-events")) o_expect = atoi(v);
        else if (OPT("--expect-streams")) o_expect_streams = atoi(v);
        else if (OPT("--deadline-s")) o_deadline = atof(v);
        else if (OPT("--linger-s")) o_linger = atof(v);
        else if (OPT("--label")) o_label = v;
        else if (OPT("--publish-url-host")) o_pub_host = v;
        else if (OPT("--publish-url-port")) o_pub_port = atoi(v);
        else if (OPT("--publish-url-path")) o_pub_path = v;
        else if (OPT("--publish-body-fmt")) o_pub_body = v;
        else if (OPT("--events")) o_events = atoi(v);
        else if (OPT("--rate")) o_rate = atof(v);
        else if (OPT("--publish-conns")) o_pub_conns = atoi(v);
        else if (OPT("--pipeline")) o_pipeline = atoi(v);
        else if (OPT("--settle-ms")) o_settle_ms = atoi(v);
        else if (OPT("--ready-file")) o_ready_file = v;
        else if (OPT("--done-file")) o_done_file = v;
        else if (OPT("--stop-file")) o_stop_file = v;
        else if (OPT("--wait-files")) o_wait_files = v;
        else if (!strcmp(a, "--emit-hist")) o_emit_hist = 1;
        else usage();
#undef OPT
    }
    int mode_idle = !strcmp(o_mode, "idle"), mode_storm = !strcmp(o_mode, "storm"), mode_fan = !strcmp(o_mode, "fanout");
    if (!o_port || o_streams < 0 || !(mode_idle || mode_storm || mode_fan)) usage();
    if (o_pipeline < 1) o_pipeline = 1;
    if (o_pub_conns < 1) o_pub_conns = 1;
    int publishing = mode_fan && o_pub_path && o_events > 0;
    if (publishing) {
        if (!o_pub_host) o_pub_host = o_host;
        if (!o_pub_port) o_pub_port = o_port;
        if (resolve(o_pub_host, o_pub_port, &pub_addr) < 0) {
            fprintf(stderr, "bad --publish-url-host\n");
            return 2;
        }
    }
    if (resolve(o_host, o_port, &srv_addr) < 0) {
        fprintf(stderr, "bad --host (an IPv4 address)\n");
        return 2;
    }
    N = o_streams;
    K = o_expect >= 0 ? o_expect : (mode_fan ? o_events : 0);
    if (o_expect_streams < 0) o_expect_streams = 1 << 30;

    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)N + 64 > rl.rlim_cur)
        fprintf(stderr, "sseload: warning: %d streams but only %lu file descriptors\n", N, (unsigned long)rl.rlim_cur);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    S = calloc((size_t)(N ? N : 1), sizeof *S);
    if (!S) { perror("calloc"); return 1; }
    size_t words = ((size_t)K + 63) / 64;
    for (int i = 0; i < N; i++) {
        S[i].fd = -1;
        S[i].expects = mode_fan && K > 0 && (o_stream_offset + i) < o_expect_streams;
        if (S[i].expects) {
            S[i].bits = calloc(words, 8);
            if (!S[i].bits) { perror("calloc"); return 1; }
            n_expecting++;
        }
    }
    NP = publishing ? o_pub_conns : 0;
    if (publishing && o_rate <= 0) NP = 1;
    P = calloc((size_t)(NP ? NP : 1), sizeof *P);
    for (int c = 0; c < NP; c++) P[c].fd = -1;

    ep = epoll_create1(EPOLL_CLOEXEC);
    timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event tev = { .events = EPOLLIN, .data.u64 = MKTAG(TAG_TIMER, 0) };
    epoll_ctl(ep, EPOLL_CTL_ADD, timer_fd, &tev);

    enum { PH_CONNECT, PH_WAIT, PH_SETTLE, PH_RUN, PH_END } ph = PH_CONNECT;
    start_mono = mono_us();
    int64_t start_wall = now_us();
    int64_t deadline = start_mono + (int64_t)(o_deadline * 1e6);
    int64_t connect_end = 0, phase_t = 0, last_check = 0;
    double connect_seconds = 0;
    struct epoll_event evs[1024];

    while (ph != PH_END) {
        int64_t m = mono_us();
        /* launch connections within the pending window */
        if (ph == PH_CONNECT) {
            while (n_next < N && (o_max_pending <= 0 || n_pending < o_max_pending)) stream_connect(n_next++);
            int timed_out = m - start_mono > (int64_t)(o_connect_timeout * 1e6);
            if ((n_next == N && n_pending == 0) || timed_out || m > deadline) {
                if (timed_out || m > deadline) {
                    for (int i = 0; i < N; i++)
                        if (S[i].st == S_CONNECTING || S[i].st == S_HEADERS || S[i].st == S_NEW) {
                            if (S[i].st == S_NEW) n_pending++, S[i].st = S_CONNECTING;
                            stream_fail(&S[i], 1);
                        }
                    n_next = N;
                }
                connect_end = m;
                connect_seconds = n_established ? (last_est_mono - start_mono) / 1e6 : (m - start_mono) / 1e6;
                char txt[64];
                snprintf(txt, sizeof txt, "%d\n", n_established);
                touch(o_ready_file, txt);
                if (mode_storm) ph = PH_END;
                else if (mode_idle) ph = PH_RUN, phase_t = m + (int64_t)(o_hold * 1e6);
                else if (publishing) ph = PH_WAIT;
                else ph = PH_RUN;
                continue;
            }
        } else if (ph == PH_WAIT) {
            if (wait_files_ok()) {
                ph = PH_SETTLE;
                phase_t = m + (int64_t)o_settle_ms * 1000;
                for (int c = 0; c < NP; c++) pub_connect(c);
            }
        } else if (ph == PH_SETTLE) {
            if (m >= phase_t) {
                ph = PH_RUN;
                pub_start_mono = m;
                pub_fill();
            }
        } else if (ph == PH_RUN) {
            if (mode_idle) {
                if (m >= phase_t) ph = PH_END;
            } else {
                /* every expecting stream is complete, or gone (closed, failed) and so never will be */
                int all_in = K > 0 && n_complete + n_exp_gone >= n_expecting;
                if (publishing) {
                    if (pub_done && (all_in || m > pub_done_mono + (int64_t)(o_linger * 1e6))) ph = PH_END;
                } else if (all_in && K > 0) {
                    ph = PH_END;
                }
            }
        }
        if (m > deadline) ph = PH_END;
        if (got_signal) ph = PH_END;
        if (m - last_check > 100000) {
            last_check = m;
            if (o_stop_file && ph != PH_CONNECT && file_exists(o_stop_file)) ph = PH_END;
        }
        if (ph == PH_END) break;

        int timeout = 50;
        if (ph == PH_CONNECT && n_next < N) timeout = 0;
        int n = epoll_wait(ep, evs, 1024, timeout);
        if (n < 0 && errno != EINTR) {
            perror("epoll_wait");
            break;
        }
        for (int e = 0; e < n; e++) {
            uint64_t tag = evs[e].data.u64 >> 32;
            int idx = (int)(uint32_t)evs[e].data.u64;
            if (tag == TAG_STREAM) {
                stream_t *s = &S[idx];
                if (s->st == S_CONNECTING) {
                    if (evs[e].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) stream_send_request(idx);
                } else if (s->st == S_HEADERS || s->st == S_OPEN) {
                    stream_readable(idx);
                }
            } else if (tag == TAG_PUB) {
                pub_event(idx, evs[e].events);
            } else if (tag == TAG_TIMER) {
                uint64_t x;
                if (read(timer_fd, &x, sizeof x) < 0) { /* nothing */ }
                pub_fill();
            }
        }
    }
    ending = 1;
    int64_t end_mono = mono_us();

    /* ---------------------------------------------------------------- report */
    uint64_t missing = 0;
    int exp_established = 0;
    for (int i = 0; i < N; i++) {
        if (!S[i].expects) continue;
        if (S[i].st == S_OPEN || S[i].st == S_CLOSED) {
            exp_established++;
            missing += (uint64_t)(K - (int)S[i].got);
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu_user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    double cpu_sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    double del_s = (first_publish_us && last_delivery_us > first_publish_us) ? (last_delivery_us - first_publish_us) / 1e6 : 0;
    uint64_t errors = err_connect + err_status + err_read + err_proto + (uint64_t)n_timeout + (uint64_t)pub_errors +
                      (uint64_t)pub_non2xx;
    /* Publishes sent while an earlier one was unanswered (rate mode, several publish connections) have no
     * defined order: the server may number them either way, so a different seq order is not a defect then. */
    int order_defined = pub_overlaps == 0;
    int complete = mode_fan && K > 0 && n_established > 0 && missing == 0 && duplicates == 0 &&
                   (out_of_order == 0 || !order_defined) && misdelivered == 0 && unexpected_seq == 0;

    printf("{\"label\":");
    json_str(o_label);
    printf(",\"mode\":\"%s\",\"streams_requested\":%d,\"streams_established\":%d,\"streams_failed\":%d,"
           "\"streams_closed_early\":%d,\"all_established\":%s,\"connect_seconds\":%.3f,",
           o_mode, N, n_established, n_failed, n_closed_early, n_established == N ? "true" : "false", connect_seconds);
    json_pct("connect_ms", &conn_h, 1);
    printf("\"events_expected\":%d,\"expecting_streams\":%d,\"deliveries_expected\":%" PRIu64 ",\"deliveries\":%" PRIu64
           ",\"deliveries_per_sec\":%.1f,\"delivery_seconds\":%.3f,",
           K, exp_established, (uint64_t)exp_established * (uint64_t)K, deliveries, del_s > 0 ? deliveries / del_s : 0.0,
           del_s);
    json_pct("lat_ms", &lat, 1);
    printf("\"complete\":%s,\"missing\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"out_of_order\":%" PRIu64
           ",\"misdelivered\":%" PRIu64 ",\"unexpected_seq\":%" PRIu64 ",\"other_frames\":%" PRIu64 ",",
           complete ? "true" : "false", missing, duplicates, out_of_order, misdelivered, unexpected_seq, frames_other);
    printf("\"errors\":%" PRIu64 ",\"errors_detail\":{\"connect\":%" PRIu64 ",\"connect_timeout\":%d,\"http_status\":%" PRIu64
           ",\"read\":%" PRIu64 ",\"protocol\":%" PRIu64 ",\"publish\":%d,\"publish_non2xx\":%d},",
           errors, err_connect, n_timeout, err_status, err_read, err_proto, pub_errors, pub_non2xx);
    printf("\"events_published\":%d,\"publish_2xx\":%d,\"publish_rate\":%.1f,\"publish_lag_ms_max\":%.3f,"
           "\"publish_seconds\":%.3f,\"publish_overlaps\":%d,\"publish_conns\":%d,",
           pub_sent, pub_2xx, o_rate, lag_max_us / 1000.0,
           pub_done && pub_first_mono ? (pub_done_mono - pub_first_mono) / 1e6 : 0.0, pub_overlaps, NP);
    json_pct("publish_rtt_ms", &rtt_h, 1);
    printf("\"first_publish_us\":%" PRId64 ",\"first_delivery_us\":%" PRId64 ",\"last_delivery_us\":%" PRId64
           ",\"start_us\":%" PRId64 ",",
           first_publish_us, first_delivery_us, last_delivery_us, start_wall);
    printf("\"bytes_read\":%" PRIu64 ",\"wall_seconds\":%.3f,\"run_seconds\":%.3f,\"driver_cpu_s\":{\"user\":%.3f,\"sys\":%.3f},"
           "\"driver_maxrss_kb\":%ld,\"src_ips\":%d,\"max_pending\":%d,\"stream_offset\":%d",
           bytes_read, (end_mono - start_mono) / 1e6, connect_end ? (end_mono - connect_end) / 1e6 : 0.0, cpu_user,
           cpu_sys, ru.ru_maxrss, o_src_ips, o_max_pending, o_stream_offset);
    if (o_emit_hist) {
        const hist_t *hs[3] = { &lat, &conn_h, &rtt_h };
        const char *names[3] = { "hist_lat", "hist_connect", "hist_rtt" };
        for (int k = 0; k < 3; k++) {
            printf(",\"%s\":{\"max\":%" PRId64 ",\"b\":[", names[k], hs[k]->max);
            int first = 1;
            for (int i = 0; i < HBUCKETS; i++)
                if (hs[k]->c[i]) {
                    printf("%s[%d,%" PRIu64 "]", first ? "" : ",", i, hs[k]->c[i]);
                    first = 0;
                }
            printf("]}");
        }
    }
    printf("}\n");
    fflush(stdout);
    touch(o_done_file, "done\n");
    return 0;
}
