#!/usr/bin/env python3
"""Cheap attacks on the packaged hub, with its default settings, and what probes and clients see meanwhile.

Run on purpose, not by the tests (the tests, src/test/java/dev/ssehub/it/HostileLoadIT.java, run shortened
versions). Loopback only; every count and duration is bounded. Results go to docs/robustness.md.

    ./mvnw package -DskipTests
    python3 bench/hostile.py                       # every attack against target/quarkus-app/quarkus-run.jar
    python3 bench/hostile.py --attack stalled      # one of: stalled, heads, big, flood, fds
    python3 bench/hostile.py --jar /path/to/other/quarkus-run.jar   # e.g. an older build, for comparison

Attackers connect from 127.0.0.2 and up; probes and ordinary clients from 127.0.0.1. Authentication and rate
limits are off (SSE_AUTH_ENABLED=false, SSE_CONNECT_RATE=0, SSE_PUBLISH_RATE=0, as for every benchmark; set
them in the environment to override): the worst case, an attacker that holds a valid token.
"""
import argparse
import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


# Probes and attackers send no token; the prod profile has authentication on.
OPEN = {"SSE_AUTH_ENABLED": "false", "SSE_CONNECT_RATE": "0", "SSE_PUBLISH_RATE": "0"}


class Service:
    """The packaged hub as a process, on a free port, with the given environment."""

    def __init__(self, jar, env):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        e = dict(OPEN, **os.environ)
        e.update(QUARKUS_HTTP_PORT=str(self.port), QUARKUS_HTTP_HOST="127.0.0.1", **env)
        self.log = open(os.path.join(HERE, "build", "hostile-service.log"), "w")
        self.proc = subprocess.Popen(["java", "-jar", jar], env=e, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if request(self.port, b"GET /q/health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0] == 200:
                return
            time.sleep(0.2)
        raise SystemExit("service not ready")

    def threads(self):
        return len(os.listdir("/proc/%d/task" % self.proc.pid))

    def rss_mib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            return int(next(l for l in f if l.startswith("VmRSS")).split()[1]) // 1024

    def metrics(self, prefix="sse_http"):
        body = request(self.port, b"GET /q/metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[1]
        return {l.split(" ")[0]: float(l.split(" ")[1]) for l in body.decode().splitlines() if l.startswith(prefix)}

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def request(port, raw, timeout=5):
    """One request on a new connection from 127.0.0.1: (status, body) or (-1, b'') without an answer in time."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=("127.0.0.1", 0)) as c:
            c.settimeout(timeout)
            c.sendall(raw)
            out = b""
            while True:
                d = c.recv(65536)
                if not d:
                    break
                out += d
        head, _, body = out.partition(b"\r\n\r\n")
        return int(head[9:12]), body
    except (OSError, ValueError):
        return -1, b""


class Prober(threading.Thread):
    """The same request every 200 ms on a new connection, as a kubelet probe: status and latency."""

    def __init__(self, name, port, raw, expected):
        super().__init__(daemon=True)
        self.name, self.port, self.raw, self.expected = name, port, raw, expected
        self.results, self.running = [], True
        self.start()

    def run(self):
        while self.running:
            t = time.time()
            status = request(self.port, self.raw)[0]
            self.results.append((time.time() - t, status))
            time.sleep(0.2)

    def stop(self):
        self.running = False
        self.join(6)
        lat = sorted(r[0] for r in self.results)
        return {"requests": len(lat), "failed": sum(1 for r in self.results if r[1] != self.expected),
                "p50_ms": round(lat[len(lat) // 2] * 1000) if lat else None,
                "max_ms": round(lat[-1] * 1000) if lat else None,
                "within_1s": sum(1 for x in lat if x <= 1.0)}


def probers(port, publish=True):
    ps = [Prober("live", port, b"GET /q/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200),
          Prober("ready", port, b"GET /q/health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200),
          Prober("metrics", port, b"GET /q/metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200)]
    if publish:
        body = b'{"type":"probe","data":{"n":1}}'
        ps.append(Prober("publish", port, b"POST /api/sse/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                         b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body, 202))
    return ps


class Attack:
    """Raw connections from chosen source addresses; notes when the server first answers or closes each."""

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.conns = []  # [socket, opened, ended, first bytes]

    def open(self, port, source, data, chunk=65536):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.bind((source, 0))
        c = [s, time.time(), None, b""]
        try:
            s.connect(("127.0.0.1", port))
            s.settimeout(10)
            for i in range(0, len(data), chunk):
                s.sendall(data[i:i + chunk])
        except OSError:
            c[2], c[3] = time.time(), b"reset"
        s.setblocking(False)
        self.conns.append(c)
        if c[2] is None:
            self.sel.register(s, selectors.EVENT_READ, c)
        return c

    def poll(self, seconds):
        end = time.time() + seconds
        while time.time() < end and any(c[2] is None for c in self.conns):
            for key, _ in self.sel.select(0.05):
                c = key.data
                try:
                    d = c[0].recv(256)
                except OSError:
                    d = b""
                if c[2] is None:
                    c[2], c[3] = time.time(), d or b"closed"
                self.sel.unregister(c[0])

    def summary(self):
        ended = [c for c in self.conns if c[2] is not None]
        times = sorted(c[2] - c[1] for c in ended)
        kinds = {}
        for c in ended:
            k = c[3][:12].decode("latin1") if c[3].startswith(b"HTTP/") else c[3].decode("latin1")
            kinds[k] = kinds.get(k, 0) + 1
        return {"connections": len(self.conns), "ended": len(ended), "by_first_answer": kinds,
                "closed_after_s": {"min": round(times[0], 1), "max": round(times[-1], 1)} if times else None}

    def close(self):
        for c in self.conns:
            c[0].close()


def stalled(jar):
    """300 uploads declare 1,000,000 bytes, send 20 KB and stop (issue item 1, must-show 1)."""
    svc = Service(jar, {})
    try:
        before = {"threads": svc.threads(), "rss_mib": svc.rss_mib()}
        ps = probers(svc.port)
        a = Attack()
        head = (b"POST /api/sse/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000000\r\n\r\n{\"type\":\"x\",\"data\":\"")
        for i in range(300):
            a.open(svc.port, "127.0.0.%d" % (2 + i % 3), head + b"a" * 20000)
        time.sleep(2)
        during = {"threads": svc.threads(), "rss_mib": svc.rss_mib()}
        a.poll(40)
        time.sleep(1)
        return {"attack": "300 stalled uploads", "before": before, "during": during,
                "uploads": a.summary(), "probes": {p.name: p.stop() for p in ps}, "metrics": svc.metrics()}
    finally:
        svc.stop()


def heads(jar):
    """5,000 connections from one address send part of a request head and stop (item 2, must-show 2)."""
    svc = Service(jar, {})
    try:
        ps = probers(svc.port, publish=False)
        a = Attack()
        streams, stream_ms = [], []
        for i in range(5000):
            a.open(svc.port, "127.0.0.2", b"GET /api/sse/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n")
            if i % 1000 == 999:
                t = time.time()
                s = socket.create_connection(("127.0.0.1", svc.port), timeout=5, source_address=("127.0.0.1", 0))
                s.sendall(b"GET /api/sse/stream HTTP/1.1\r\nHost: x\r\n\r\n")
                got = b""
                try:
                    while b"connection_established" not in got:
                        got += s.recv(4096)
                    stream_ms.append(round((time.time() - t) * 1000))
                except OSError:
                    stream_ms.append(None)
                streams.append(s)
        a.poll(40)
        time.sleep(1)
        return {"attack": "5,000 half-sent request heads from one address", "heads": a.summary(),
                "streams_opened_during_attack_ms": stream_ms, "probes": {p.name: p.stop() for p in ps},
                "metrics": svc.metrics()}
    finally:
        for s in streams:
            s.close()
        svc.stop()


def big(jar):
    """60 uploads stop one byte short of the body limit (item 5): memory held, and how long."""
    svc = Service(jar, {})
    try:
        before = svc.rss_mib()
        limit = 16 * 1024 * 1024  # sse.max-batch-bytes, default 16M
        a = Attack()
        refused = request(svc.port, b"POST /api/sse/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (limit + 1))[0]
        head = (b"POST /api/sse/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d"
                b"\r\n\r\n" % limit)
        for i in range(60):
            a.open(svc.port, "127.0.0.%d" % (2 + i % 3), head + b"a" * (limit - 1))
        time.sleep(1)
        during = svc.rss_mib()
        a.poll(60)
        return {"attack": "60 uploads stopped one byte short of sse.max-batch-bytes (16 MiB)",
                "declared_over_the_limit_answered": refused, "rss_mib": {"before": before, "holding": during,
                                                                "after": svc.rss_mib()},
                "uploads": a.summary(), "metrics": svc.metrics()}
    finally:
        svc.stop()


def flood(jar, env=None, label="19,000 half-sent request heads from 19 addresses", n=19000):
    """19,000 half-sent heads from 19 addresses (1,000 each, under the per-address cap): the total cap, the
    reserve and the file-descriptor limit (item 2 with many addresses)."""
    svc = Service(jar, env or {})
    try:
        ps = probers(svc.port, publish=False)
        a = Attack()
        streams, stream_ms = [], []
        for i in range(n):
            a.open(svc.port, "127.0.1.%d" % (1 + i % 19), b"GET /api/sse/stream HTTP/1.1\r\nHost: x\r\n")
            if i % (n // 5) == n // 5 - 1:
                t = time.time()
                status = request(svc.port, b"POST /api/sse/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                 b"Content-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"type\":\"x\"}")[0]
                stream_ms.append((status, round((time.time() - t) * 1000)))
        a.poll(70)
        time.sleep(1)
        with open(os.path.join(HERE, "build", "hostile-service.log")) as f:
            accept_errors = sum(1 for l in f if "Too many open files" in l)
        return {"attack": label, "heads": a.summary(), "publishes_during_attack": stream_ms,
                "probes": {p.name: p.stop() for p in ps}, "metrics": svc.metrics(),
                "accept_errors_in_log": accept_errors}
    finally:
        svc.stop()


def fds(jar):
    """The same flood with no connection caps and a header timeout long enough for all of it to be open at
    once (this process has the same file limit as the hub): the file-descriptor reserve is what stops it."""
    return flood(jar, {"SSE_HTTP_MAX_PENDING": "100000", "SSE_HTTP_MAX_PENDING_PER_ADDRESS": "100000",
                       "SSE_HTTP_HEADER_TIMEOUT": "60s"},
                 "19,950 half-sent request heads from 19 addresses, caps lifted and a 60 s header timeout: "
                 "the file-descriptor reserve", 19950)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jar", default=os.path.join(ROOT, "target", "quarkus-app", "quarkus-run.jar"))
    ap.add_argument("--attack", choices=["stalled", "heads", "big", "flood", "fds"], action="append")
    args = ap.parse_args()
    os.makedirs(os.path.join(HERE, "build"), exist_ok=True)
    for name in args.attack or ["stalled", "heads", "big", "flood", "fds"]:
        print(json.dumps(globals()[name](args.jar), indent=1), flush=True)


if __name__ == "__main__":
    sys.exit(main())
