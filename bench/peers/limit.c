/*
 * limit.c - the smallest SSE broadcast server we could write: the practical ceiling of this machine.
 *
 *   limit --port P [--host 127.0.0.1] [--max-pending-bytes 1048576]
 *
 * Single-threaded, level-triggered epoll. Any GET is answered with
 *   HTTP/1.1 200 OK / Content-Type: text/event-stream / Cache-Control: no-cache / Connection: close
 * and then becomes a raw stream (no chunking, no length: the body ends when the socket closes).
 * POST /publish reads the body (Content-Length) and formats ONE frame
 *   id: <n>\nevent: bench\ndata: <body>\n\n
 * which is appended to a shared batch; after every epoll_wait round the batch is written once to every
 * stream socket (so pipelined publishes read in the same round go out in one write() per socket), and
 * only then are the 202 answers sent. A socket whose kernel buffer is full keeps the rest in a small
 * per-socket pending buffer (EPOLLOUT flushes it); a socket that falls more than --max-pending-bytes
 * behind is closed (counted as "dropped"). Anything else gets a 404. SIGTERM/SIGINT print stats to
 * stderr and exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum { C_FREE = 0, C_REQ, C_STREAM };

typedef struct {
    uint8_t type;
    uint8_t want_out;      /* EPOLLOUT registered */
    int sidx;              /* index in streams[] when C_STREAM */
    char *in;              /* request bytes (C_REQ only) */
    size_t in_len, in_cap;
    char *out;             /* pending output */
    size_t out_off, out_len, out_cap;
} conn_t;

static conn_t *conns;
static int max_fd;
static int *streams;
static int nstreams;
static int ep;
static size_t max_pending = 1 << 20;

static char *batch;
static size_t batch_len, batch_cap;
static uint64_t next_id = 1;
static volatile sig_atomic_t stop;

static uint64_t st_events, st_writes, st_dropped, st_accepted, st_bytes;

static void die(const char *m) { perror(m); exit(1); }

static void grow(char **b, size_t *cap, size_t need) {
    if (need <= *cap) return;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    char *n = realloc(*b, c);
    if (!n) die("realloc");
    *b = n;
    *cap = c;
}

static void set_out(int fd, int on) {
    conn_t *c = &conns[fd];
    if (c->want_out == on) return;
    struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.fd = fd };
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
    c->want_out = (uint8_t)on;
}

static void close_conn(int fd) {
    conn_t *c = &conns[fd];
    if (c->type == C_STREAM) {
        int last = streams[--nstreams];
        streams[c->sidx] = last;
        conns[last].sidx = c->sidx;
    }
    free(c->in);
    free(c->out);
    memset(c, 0, sizeof *c);
    close(fd);
}

/* Write what is pending; returns -1 if the connection was closed. */
static int flush_out(int fd) {
    conn_t *c = &conns[fd];
    while (c->out_off < c->out_len) {
        ssize_t w = write(fd, c->out + c->out_off, c->out_len - c->out_off);
        if (w > 0) {
            c->out_off += (size_t)w;
            st_bytes += (uint64_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_out(fd, 1);
            return 0;
        } else {
            close_conn(fd);
            return -1;
        }
    }
    c->out_off = c->out_len = 0;
    set_out(fd, 0);
    return 0;
}

/* Queue bytes behind whatever is pending, or write them directly. */
static void send_bytes(int fd, const char *p, size_t n) {
    conn_t *c = &conns[fd];
    if (c->out_len == c->out_off) {
        ssize_t w;
        do {
            w = write(fd, p, n);
        } while (w < 0 && errno == EINTR);
        st_writes++;
        if (w == (ssize_t)n) {
            st_bytes += n;
            return;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            close_conn(fd);
            return;
        }
        if (w > 0) {
            st_bytes += (uint64_t)w;
            p += w;
            n -= (size_t)w;
        }
        c->out_off = c->out_len = 0;
    }
    if (c->type == C_STREAM && c->out_len - c->out_off + n > max_pending) {
        st_dropped++;
        close_conn(fd);
        return;
    }
    if (c->out_off > 0 && c->out_off == c->out_len) c->out_off = c->out_len = 0;
    grow(&c->out, &c->out_cap, c->out_len + n);
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    set_out(fd, 1);
}

static void add_event(const char *body, size_t n) {
    while (n && (body[n - 1] == '\n' || body[n - 1] == '\r')) n--;
    char head[64];
    int h = snprintf(head, sizeof head, "id: %llu\nevent: bench\ndata: ", (unsigned long long)next_id++);
    grow(&batch, &batch_cap, batch_len + (size_t)h + n * 7 + 2);
    memcpy(batch + batch_len, head, (size_t)h);
    batch_len += (size_t)h;
    for (size_t i = 0; i < n; i++) { /* a newline inside the body starts a new data: line */
        if (body[i] == '\n') {
            memcpy(batch + batch_len, "\ndata: ", 7);
            batch_len += 7;
        } else if (body[i] != '\r') {
            batch[batch_len++] = body[i];
        }
    }
    batch[batch_len++] = '\n';
    batch[batch_len++] = '\n';
    st_events++;
}

static const char SSE_HEAD[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                               "Connection: close\r\n\r\n";
static const char R202[] = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n";
static const char R404[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
static const char R400[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/* fds that got a 202 this round: answered after the batch went out */
static int *answer_fd;
static int answers, answer_cap;

static void handle_requests(int fd) {
    conn_t *c = &conns[fd];
    size_t off = 0;
    while (c->type == C_REQ && off < c->in_len) {
        char *start = c->in + off;
        size_t avail = c->in_len - off;
        char *end = memmem(start, avail, "\r\n\r\n", 4);
        if (!end) {
            if (avail > 16384) {
                send_bytes(fd, R400, sizeof R400 - 1);
                if (conns[fd].type) close_conn(fd);
                return;
            }
            break;
        }
        size_t hlen = (size_t)(end - start) + 4;
        size_t clen = 0;
        for (char *p = start; p < end;) {
            char *eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
            if (!eol) break;
            if (eol - p > 15 && strncasecmp(p, "content-length:", 15) == 0) clen = strtoul(p + 15, NULL, 10);
            p = eol + 2;
        }
        if (avail < hlen + clen) break; /* body not complete yet */
        if (strncmp(start, "GET ", 4) == 0) {
            c->type = C_STREAM;
            c->sidx = nstreams;
            streams[nstreams++] = fd;
            free(c->in);
            c->in = NULL;
            c->in_len = c->in_cap = 0;
            send_bytes(fd, SSE_HEAD, sizeof SSE_HEAD - 1);
            return;
        } else if (strncmp(start, "POST /publish", 13) == 0 && (start[13] == ' ' || start[13] == '?')) {
            add_event(start + hlen, clen);
            if (answers == answer_cap) {
                answer_cap = answer_cap ? answer_cap * 2 : 64;
                answer_fd = realloc(answer_fd, sizeof(int) * (size_t)answer_cap);
                if (!answer_fd) die("realloc");
            }
            answer_fd[answers++] = fd;
        } else {
            send_bytes(fd, R404, sizeof R404 - 1);
            if (!conns[fd].type) return;
        }
        off += hlen + clen;
    }
    if (conns[fd].type == C_REQ && off) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
}

static void on_read(int fd) {
    conn_t *c = &conns[fd];
    char tmp[65536];
    if (c->type == C_STREAM) { /* streams only ever send us their close */
        ssize_t r = read(fd, tmp, sizeof tmp);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) close_conn(fd);
        return;
    }
    grow(&c->in, &c->in_cap, c->in_len + 65536);
    ssize_t r = read(fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        close_conn(fd);
        return;
    }
    if (r > 0) {
        c->in_len += (size_t)r;
        handle_requests(fd);
    }
}

static void on_signal(int s) { (void)s; stop = 1; }

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    int port = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--host") && i + 1 < argc) host = argv[++i];
        else if (!strcmp(argv[i], "--max-pending-bytes") && i + 1 < argc) max_pending = strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: %s --port P [--host 127.0.0.1] [--max-pending-bytes N]\n", argv[0]);
            return 2;
        }
    }
    if (port <= 0) {
        fprintf(stderr, "--port is required\n");
        return 2;
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    max_fd = (int)(rl.rlim_cur > 1048576 ? 1048576 : rl.rlim_cur);
    conns = calloc((size_t)max_fd, sizeof *conns);
    streams = calloc((size_t)max_fd, sizeof *streams);
    if (!conns || !streams) die("calloc");
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (ls < 0) die("socket");
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) die("inet_pton");
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
    if (listen(ls, 4096) < 0) die("listen");
    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = ls };
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    fprintf(stderr, "limit: listening on %s:%d\n", host, port);

    struct epoll_event evs[1024];
    while (!stop) {
        int n = epoll_wait(ep, evs, 1024, 1000);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                for (int k = 0; k < 256; k++) {
                    int cfd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (cfd < 0) break;
                    if (cfd >= max_fd) {
                        close(cfd);
                        continue;
                    }
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conns[cfd].type = C_REQ;
                    struct epoll_event e2 = { .events = EPOLLIN, .data.fd = cfd };
                    epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &e2);
                    st_accepted++;
                }
                continue;
            }
            if (!conns[fd].type) continue; /* closed earlier in this round */
            if (evs[i].events & EPOLLOUT) {
                if (flush_out(fd) < 0) continue;
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_read(fd);
        }
        if (batch_len) { /* one write per stream socket for everything published this round */
            for (int s = nstreams - 1; s >= 0; s--) {
                if (s < nstreams) send_bytes(streams[s], batch, batch_len);
            }
            batch_len = 0;
        }
        for (int k = 0; k < answers; k++) {
            if (conns[answer_fd[k]].type == C_REQ) send_bytes(answer_fd[k], R202, sizeof R202 - 1);
        }
        answers = 0;
    }
    fprintf(stderr, "limit: accepted=%llu events=%llu writes=%llu bytes=%llu dropped_slow=%llu streams_open=%d\n",
            (unsigned long long)st_accepted, (unsigned long long)st_events, (unsigned long long)st_writes,
            (unsigned long long)st_bytes, (unsigned long long)st_dropped, nstreams);
    return 0;
}
