#!/usr/bin/env python3
"""Markdown tables from bench/redis.sh results (one JSON line per run).

    python3 bench/redis_report.py bench/results/redis-<date>.jsonl [--since 2026-12-04T16:00:00Z]

Fan-out: per scenario, the median over rounds and the range (min..max); then, per round, the ratio of
each Redis scenario to the memory scenario of the same round and kind (burst or paced), so a slow
moment of the shared machine affects both sides of a ratio alike. Capacity: publishes/s accepted by one
instance on Redis with no streams, and the CPU of redis-server and of the hub meanwhile; then each Redis run
over the memory run just before it.
"""
import json
import statistics
import sys


def load(path, since=None):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                if r.get("bench") == "redis" and (since is None or r["date"] >= since):
                    rows.append(r)
    return rows


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def rng(xs, fmt):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "–"
    if len(xs) == 1:
        return fmt(xs[0])
    return "%s (%s–%s)" % (fmt(med(xs)), fmt(min(xs)), fmt(max(xs)))


def n0(x):
    return "{:,.0f}".format(x)


def ms(x):
    return "{:,.1f}".format(x) if x >= 10 else "{:,.2f}".format(x)


def ratio(x):
    return "{:.2f}×".format(x)


FANOUT = ["memory-burst", "redis-burst", "aof-burst", "memory-paced", "redis-paced", "aof-paced", "memory-hop",
          "redis-hop"]
WHAT = {"memory": "memory, 2 instances, a publisher each", "redis": "Redis (no persistence), publisher to A",
        "aof": "Redis (AOF everysec), publisher to A"}


def fanout_table(rows):
    out = ["| scenario | runs | deliveries/s | p50 ms | p99 ms | max ms | publishing s | complete | CPU s hub A / hub B / redis |",
           "|---|---|---|---|---|---|---|---|---|"]
    for scen in FANOUT:
        rs = [r for r in rows if r["scenario"] == scen]
        if not rs:
            continue
        kind = scen.split("-")[0]
        ev = rs[0]["events"]
        rate = rs[0]["rate"]
        name = "%s: %s; 2 × %s streams, %s events %s" % (scen, WHAT[kind], n0(rs[0]["streams_per_instance"]),
                                                           n0(ev), "burst" if not rate else "at %g/s" % rate)
        cpu = lambda k: med([r["cpu_s"].get(k) for r in rs])
        cpus = " / ".join("–" if cpu(k) is None else "%.1f" % cpu(k) for k in ("hub_a", "hub_b", "redis"))
        complete = sum(1 for r in rs if r.get("complete"))
        out.append("| %s | %d | %s | %s | %s | %s | %s | %d of %d | %s |" % (
            name, len(rs), rng([r["deliveries_per_sec"] for r in rs], n0), rng([r["lat_ms"]["p50"] for r in rs], ms),
            rng([r["lat_ms"]["p99"] for r in rs], ms), rng([r["lat_ms"]["max"] for r in rs], ms),
            rng([r["publish_seconds"] for r in rs], lambda x: "%.1f" % x), complete, len(rs), cpus))
    return "\n".join(out)


def ratio_table(rows):
    out = ["| ratio (same round) | rounds | deliveries/s | p50 | p99 | max |", "|---|---|---|---|---|---|"]
    for kind in ("burst", "paced", "hop"):
        for other in ("redis", "aof"):
            rs = []
            for rnd in sorted({r["round"] for r in rows}):
                m = [r for r in rows if r["scenario"] == "memory-" + kind and r["round"] == rnd]
                o = [r for r in rows if r["scenario"] == "%s-%s" % (other, kind) and r["round"] == rnd]
                if m and o:
                    rs.append((m[0], o[0]))
            if not rs:
                continue
            f = lambda g: [g(o) / g(m) if g(m) else None for m, o in rs]
            out.append("| %s-%s / memory-%s | %d | %s | %s | %s | %s |" % (
                other, kind, kind, len(rs), rng(f(lambda r: r["deliveries_per_sec"]), ratio),
                rng(f(lambda r: r["lat_ms"]["p50"]), ratio), rng(f(lambda r: r["lat_ms"]["p99"]), ratio),
                rng(f(lambda r: r["lat_ms"]["max"]), ratio)))
    return "\n".join(out)


def capacity_table(rows):
    out = ["| what | runs | events/s accepted | refused | hub CPU (cores) | redis-server CPU (cores) | redis-server CPU µs per event |",
           "|---|---|---|---|---|---|---|"]
    names = {"capacity-memory-single": "memory backplane: single-event publishes, 8 connections",
             "capacity-memory-batch": "memory backplane: batches of 50 events, 8 connections",
             "capacity-redis-single": "Redis backplane: single-event publishes, 8 connections",
             "capacity-redis-batch": "Redis backplane: batches of 50 events, 8 connections",
             "capacity-redis-single-32": "Redis backplane: single-event publishes, 32 connections",
             "capacity-redis-single-3-instances": "Redis backplane: single-event publishes, 8 connections, 3 instances tailing",
             "capacity-script-alone": "the publish script alone against Redis (redis-benchmark, 16 × 16 pipelined)"}
    for scen, name in names.items():
        rs = [r for r in rows if r["scenario"] == scen]
        if not rs:
            continue
        us = [r.get("redis_cpu_us_per_event") or (r["cpu_s"]["redis"] * 1e6 / (r["events_per_sec"] * r["window_seconds"])
                                                  if r.get("events_per_sec") and scen == "capacity-script-alone" else None)
              for r in rs]
        refused = [r.get("requests_refused") for r in rs]
        out.append("| %s | %d | %s | %s | %s | %s | %s |" % (
            name, len(rs), rng([r.get("events_per_sec") for r in rs], n0),
            "–" if all(x is None for x in refused) else "%s of %s requests" % (
                rng(refused, n0), n0(rs[0].get("requests") or 0)),
            rng([r.get("cpu_frac", {}).get("hub") for r in rs], lambda x: "%.2f" % x),
            rng([r.get("cpu_frac", {}).get("redis") for r in rs], lambda x: "%.2f" % x), rng(us, lambda x: "%.1f" % x)))
    return "\n".join(out)


def capacity_ratio_table(rows):
    """Each Redis capacity run over the memory run of the same kind just before it (the same run_capacity call)."""
    pairs = {"single": [], "batch": []}
    last = {}
    for r in rows:  # in file order
        for kind in pairs:
            if r["scenario"] == "capacity-memory-" + kind:
                last[kind] = r
            elif r["scenario"] == "capacity-redis-" + kind and kind in last:
                pairs[kind].append((last.pop(kind), r))
    out = ["| ratio (same run) | runs | events/s accepted | hub CPU per event |", "|---|---|---|---|"]
    per = lambda r: r["cpu_frac"]["hub"] / r["events_per_sec"] if r.get("events_per_sec") else None
    for kind, name in (("single", "Redis / memory, single-event publishes, 8 connections"),
                       ("batch", "Redis / memory, batches of 50, 8 connections")):
        ps = pairs[kind]
        if not ps:
            continue
        out.append("| %s | %d | %s | %s |" % (
            name, len(ps), rng([o["events_per_sec"] / m["events_per_sec"] for m, o in ps if m.get("events_per_sec")], ratio),
            rng([per(o) / per(m) for m, o in ps if per(m) and per(o)], ratio)))
    return "\n".join(out)


def main():
    args = sys.argv[1:]
    since = None
    if "--since" in args:
        i = args.index("--since")
        since = args[i + 1]
        del args[i:i + 2]
    rows = load(args[0], since)
    if not rows:
        sys.exit("redis_report.py: no bench/redis.sh results in " + args[0])
    print("<!-- generated by bench/redis_report.py from %s; %s .. %s -->\n" % (
        args[0].split("/")[-1], min(r["date"] for r in rows), max(r["date"] for r in rows)))
    fan = [r for r in rows if r["scenario"] in FANOUT]
    if fan:
        print(fanout_table(fan))
        print()
        print(ratio_table(fan))
        print()
    cap = [r for r in rows if r["scenario"].startswith("capacity")]
    if cap:
        print(capacity_table(cap))
        print()
        print(capacity_ratio_table(cap))


if __name__ == "__main__":
    main()
