#!/usr/bin/env bash
# Cost of one user-targeted publish with few and with many other streams open, in ONE hub process:
# for N in 10, 10000, 10 (the repeat shows the order did not matter), opens N other streams (users u1..uN)
# plus one stream of user u0, publishes EVENTS events to u0 at RATE/s, and reports the publisher's round
# trip (the hub's whole publish path: parse, match, queue, answer) and the publish->receive latency.
# The hub's periodic heartbeat (SSE_HEARTBEAT_INTERVAL, 30s in peers/hub.sh) writes to every idle stream,
# like a broadcast; with 10,000 streams a tick inside the measured window shows in p99. Set
# SSE_HEARTBEAT_INTERVAL=1h to measure the publish path alone. Prints one JSON line per N and a Markdown table.
#
#   bash bench/targeted.sh            (build first: ./mvnw package -DskipTests)
#   EVENTS=5000 RATE=500 bash bench/targeted.sh
set -uo pipefail
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD="$BENCH/build"
PORT=${PORT:-18190}
EVENTS=${EVENTS:-2000}
RATE=${RATE:-200}
SIZES=${SIZES:-"10 10000 10"}
OUT=${OUT:-$BENCH/results/targeted-$(date -u +%Y-%m-%d).jsonl}
mkdir -p "$BUILD/logs" "$BENCH/results"
ulimit -n 20000 2>/dev/null || true
gcc -O2 -Wall -Wextra -o "$BUILD/sseload" "$BENCH/sseload.c" || exit 1

"$BENCH/peers/hub.sh" "$PORT" >"$BUILD/logs/targeted-hub.log" 2>&1 &
HUB=$!
trap 'kill $HUB 2>/dev/null; wait $HUB 2>/dev/null' EXIT
for _ in $(seq 1 150); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.2; done
BODY='{"type":"bench","data":{"seq":{seq},"ts":{ts}},"target":{"userIds":["u0"]}}'
run() { # streams events rate label
    "$BUILD/sseload" --host 127.0.0.1 --port "$PORT" --src-ips 32 --mode fanout --path-fmt '/api/sse/stream?userId=u%d' \
        --streams "$1" --expect-streams 1 --expect-events "$2" --publish-url-host 127.0.0.1 --publish-url-port "$PORT" \
        --publish-url-path /api/sse/events --publish-body-fmt "$BODY" --events "$2" --rate "$3" --publish-conns 1 \
        --settle-ms 1000 --linger-s 5 --deadline-s 120 --label "$4" 2>>"$BUILD/logs/targeted.err"
}
echo "warm-up: 200 streams, 5000 targeted events" >&2
run 200 5000 0 warmup >/dev/null
: >"$BUILD/targeted.tmp"
for n in $SIZES; do
    run $((n + 1)) "$EVENTS" "$RATE" "others-$n" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
d["other_streams"] = int(sys.argv[1])
d["heartbeat_interval"] = sys.argv[2]
print(json.dumps(d, separators=(",", ":")))' "$n" "${SSE_HEARTBEAT_INTERVAL:-30s}" | tee -a "$OUT" >>"$BUILD/targeted.tmp"
    echo "others=$n done" >&2
done
python3 - "$BUILD/targeted.tmp" "$EVENTS" "$RATE" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"\nOne hub process; {sys.argv[2]} events to user u0 at {sys.argv[3]}/s per row; the other streams belong to other users; "
      f"heartbeat interval {rows[0].get('heartbeat_interval') if rows else '?'}.\n")
print("| other streams | streams open | publish round trip p50 / p90 / p99 ms | publish→receive p50 / p99 ms | delivered to u0 only | complete |")
print("|---|---|---|---|---|---|")
for r in rows:
    rtt, lat = r.get("publish_rtt_ms", {}), r.get("lat_ms", {})
    print(f"| {r['other_streams']:,} | {r['streams_established']:,} | {rtt.get('p50', 0):.3f} / {rtt.get('p90', 0):.3f} / {rtt.get('p99', 0):.3f} | "
          f"{lat.get('p50', 0):.3f} / {lat.get('p99', 0):.3f} | "
          f"{'yes' if r.get('misdelivered', 1) == 0 else 'no'} | {'yes' if r.get('complete') else 'no'} |")
PY
