#!/usr/bin/env python3
"""Merge the JSON lines of several sseload processes (run with --emit-hist) into one line.

    python3 bench/merge.py part1.json part2.json ... > merged.json

Counts are summed, connect_seconds and maxima are the largest, percentiles are recomputed from the
summed histograms (same buckets as sseload.c: hval() below mirrors it), and deliveries_per_sec is
recomputed from the earliest publish and the latest delivery over all processes.
"""
import json
import sys

SUB_BITS = 7
SUB = 1 << SUB_BITS


def hval(i):
    if i < 2 * SUB:
        return i
    e = (i - 2 * SUB) // SUB + SUB_BITS + 1
    m = (i - 2 * SUB) % SUB
    w = 1 << (e - SUB_BITS)
    return ((SUB + m) << (e - SUB_BITS)) + w // 2


def pcts(buckets, mx):
    n = sum(buckets.values())
    out = {"n": n}
    for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999)):
        if not n:
            out[name] = 0.0
            continue
        target = max(1, int(q * n + 0.999999))
        cum = 0
        val = mx
        for i in sorted(buckets):
            cum += buckets[i]
            if cum >= target:
                val = min(hval(i), mx)
                break
        out[name] = round(val / 1000.0, 3)
    out["max"] = round(mx / 1000.0, 3)
    return out


def merge_hist(parts, key):
    buckets, mx = {}, 0
    for p in parts:
        h = p.get(key)
        if not h:
            continue
        mx = max(mx, h["max"])
        for i, c in h["b"]:
            buckets[i] = buckets.get(i, 0) + c
    return buckets, mx


SUM = ["streams_requested", "streams_established", "streams_failed", "streams_closed_early", "expecting_streams",
       "deliveries_expected", "deliveries", "missing", "duplicates", "out_of_order", "misdelivered", "unexpected_seq",
       "other_frames", "errors", "events_published", "publish_2xx", "publish_overlaps", "bytes_read"]
MAX = ["connect_seconds", "events_expected", "publish_lag_ms_max", "publish_seconds", "wall_seconds", "run_seconds",
       "driver_maxrss_kb", "publish_conns", "publish_rate"]


def merge(parts):
    out = dict(parts[0])
    for k in SUM:
        out[k] = sum(p.get(k, 0) for p in parts)
    for k in MAX:
        out[k] = max(p.get(k, 0) for p in parts)
    out["errors_detail"] = {k: sum(p["errors_detail"].get(k, 0) for p in parts) for k in parts[0]["errors_detail"]}
    out["driver_cpu_s"] = {k: round(sum(p["driver_cpu_s"][k] for p in parts), 3) for k in ("user", "sys")}
    out["driver_cpu_s_per_proc"] = [round(p["driver_cpu_s"]["user"] + p["driver_cpu_s"]["sys"], 3) for p in parts]
    for name, key in (("lat_ms", "hist_lat"), ("connect_ms", "hist_connect"), ("publish_rtt_ms", "hist_rtt")):
        b, mx = merge_hist(parts, key)
        out[name] = pcts(b, mx)
        out.pop(key, None)
    fp = [p["first_publish_us"] for p in parts if p.get("first_publish_us")]
    ld = [p["last_delivery_us"] for p in parts if p.get("last_delivery_us")]
    fd = [p["first_delivery_us"] for p in parts if p.get("first_delivery_us")]
    out["first_publish_us"] = min(fp) if fp else 0
    out["last_delivery_us"] = max(ld) if ld else 0
    out["first_delivery_us"] = min(fd) if fd else 0
    span = (out["last_delivery_us"] - out["first_publish_us"]) / 1e6 if fp and ld else 0
    out["delivery_seconds"] = round(span, 3)
    out["deliveries_per_sec"] = round(out["deliveries"] / span, 1) if span > 0 else 0.0
    out["all_established"] = out["streams_established"] == out["streams_requested"]
    if out.get("mode") == "fanout":
        out["complete"] = (out["streams_established"] > 0 and out["missing"] == 0 and out["duplicates"] == 0
                           and out["out_of_order"] == 0 and out["misdelivered"] == 0 and out["unexpected_seq"] == 0)
    out["procs"] = len(parts)
    return out


def main():
    parts = []
    for f in sys.argv[1:]:
        with open(f) as fh:
            for line in fh:
                line = line.strip()
                if line.startswith("{"):
                    parts.append(json.loads(line))
    if not parts:
        sys.exit("merge.py: no JSON input")
    print(json.dumps(merge(parts), separators=(",", ":")))


if __name__ == "__main__":
    main()
