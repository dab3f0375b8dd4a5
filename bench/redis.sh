#!/usr/bin/env bash
# Fan-out through the Redis backplane beside the memory backplane, in one run, and what one Redis carries
# for this service. Appends one JSON line per run to bench/results/redis-<date>.jsonl and prints the
# tables of docs/performance.md ("Fan-out through Redis") with bench/redis_report.py. See bench/README.md.
#
#   bash bench/redis.sh                                   every scenario, RUNS=3 rounds, then capacity
#   RUNS=1 SCENARIOS="memory-burst redis-burst" bash bench/redis.sh
#   QUICK=1 bash bench/redis.sh                           smoke test: 200 streams per instance, fewer events
#
# Scenarios (each on fresh processes; a round runs them in this order, so memory and Redis alternate):
#   memory-burst  memory-paced   two hub instances on the memory backplane, 2,000 streams each, each with its
#                                own publisher (the same topology as Redis: two JVMs, 2,000 streams each)
#   redis-burst   redis-paced    two hub instances on one Redis (no persistence), 2,000 streams each; one
#                                publisher, to instance A, so every event reaches B through Redis only
#   aof-burst     aof-paced      the same on a Redis with appendonly yes, appendfsync everysec
#   memory-hop    redis-hop      as -paced with 10 streams per instance: the Redis hop itself, without the
#                                fan-out's queueing (not in the default set)
#   capacity                     one instance on Redis, no streams: publishes/s accepted (single events on
#                                8 connections, batches of 50; also with 3 instances tailing), with the
#                                Redis server's and the hub's CPU;
#                                then the publish script alone against Redis (redis-benchmark)
# burst = 1,000 events pipelined (32 in flight on one connection); paced = 200 events at 20/s on one connection.
#
# Knobs: RUNS=3, SCENARIOS="...", STREAMS=2000 (per instance), BASE_PORT=18400, SRC_IPS=32, NO_INSTALL=1,
# HUB_JAVA_OPTS / SSE_* / QUARKUS_* (passed to both hubs, see peers/hub.sh), RESULTS=file.jsonl.
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
BUILD="$BENCH/build"
RUNS=${RUNS:-3}
ALL_SCENARIOS="memory-burst redis-burst aof-burst memory-paced redis-paced aof-paced"
SCENARIOS=${SCENARIOS:-"$ALL_SCENARIOS capacity"}
QUICK=${QUICK:-0}
STREAMS=${STREAMS:-2000}
SRC_IPS=${SRC_IPS:-32}
BASE_PORT=${BASE_PORT:-18400}
NO_INSTALL=${NO_INSTALL:-0}
WARMUP_STREAMS=${WARMUP_STREAMS:-1000}
WARMUP_EVENTS=${WARMUP_EVENTS:-2000}
DAY=$(date -u +%Y-%m-%d)
mkdir -p "$BENCH/results" "$BUILD/logs"
if [ "$QUICK" = 1 ]; then
    STREAMS=200 WARMUP_STREAMS=100 WARMUP_EVENTS=200 RUNS=${RUNS_QUICK:-1}
    RESULTS=${RESULTS:-$BUILD/redis-quick.jsonl}
else
    RESULTS=${RESULTS:-$BENCH/results/redis-$DAY.jsonl}
fi
HUB_A=$BASE_PORT HUB_B=$((BASE_PORT + 1)) REDIS_PORT=$((BASE_PORT + 79))
CLK_TCK=$(getconf CLK_TCK)
PUB_BODY='{"type":"bench","data":{"seq":{seq},"ts":{ts}}}'

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

ulimit -n 20000 2>/dev/null || true

# ---------------------------------------------------------------- install and build
install_deps() {
    local need=()
    command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
    command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
    command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
    command -v curl >/dev/null 2>&1 || need+=(curl)
    if [ ${#need[@]} -gt 0 ]; then
        if [ "$NO_INSTALL" = 1 ]; then
            log "missing ${need[*]} (NO_INSTALL=1: not installing)"
            exit 1
        fi
        log "apt-get install ${need[*]}"
        apt-get update -q >"$BUILD/logs/apt-redis.log" 2>&1
        # Debian's package would start a system-wide redis on 6379 where services may start: this script
        # starts its own, on a loopback port, and stops it.
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" \
            >>"$BUILD/logs/apt-redis.log" 2>&1 || { log "apt-get install failed: see $BUILD/logs/apt-redis.log"; exit 1; }
    fi
    if [ ! -f "$ROOT/target/quarkus-app/quarkus-run.jar" ]; then
        log "target/quarkus-app/quarkus-run.jar missing: build it with ./mvnw package -DskipTests"
        exit 1
    fi
    gcc -O2 -Wall -Wextra -o "$BUILD/sseload" "$BENCH/sseload.c" || exit 1
}

# ---------------------------------------------------------------- processes
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'; }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null; }

REDIS_PID="" REDIS_DIR=""
start_redis() { # none|aof
    local mode=$1 persist
    port_free "$REDIS_PORT" || { log "port $REDIS_PORT is taken: set BASE_PORT"; return 1; }
    REDIS_DIR=$(mktemp -d "$BUILD/redis.XXXXXX")
    if [ "$mode" = aof ]; then
        persist=(--appendonly yes --appendfsync everysec)
    else
        persist=(--appendonly no)
    fi
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes --save "" "${persist[@]}" \
        --dir "$REDIS_DIR" --daemonize no --logfile "$BUILD/logs/redis.log" </dev/null >/dev/null 2>&1 &
    REDIS_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.1
    done
    log "redis-server did not start (log: $BUILD/logs/redis.log)"
    return 1
}

stop_pid() {
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

stop_redis() {
    stop_pid "$REDIS_PID"
    REDIS_PID=""
    [ -n "$REDIS_DIR" ] && rm -rf "$REDIS_DIR"
    REDIS_DIR=""
}

declare -A HUB_PID
start_hub() { # name port backplane
    local name=$1 port=$2 backplane=$3
    local env=(SSE_BACKPLANE="$backplane")
    port_free "$port" || { log "port $port is taken: set BASE_PORT"; return 1; }
    [ "$backplane" = redis ] && env+=(QUARKUS_REDIS_HOSTS="redis://127.0.0.1:$REDIS_PORT")
    env "${env[@]}" "$BENCH/peers/hub.sh" "$port" >"$BUILD/logs/redis-bench-hub-$name.log" 2>&1 &
    HUB_PID[$name]=$!
}

await_ready() { # name port: readiness UP (for Redis: connected and the history loaded)
    local i
    for ((i = 0; i < 600; i++)); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2/q/health/ready")" = 200 ] && return 0
        kill -0 "${HUB_PID[$1]}" 2>/dev/null || break
        sleep 0.2
    done
    log "hub $1 not ready on port $2 (log: $BUILD/logs/redis-bench-hub-$1.log)"
    return 1
}

stop_hubs() {
    local n
    for n in "${!HUB_PID[@]}"; do stop_pid "${HUB_PID[$n]}"; done
    HUB_PID=()
}

cleanup() {
    stop_hubs
    stop_redis
}
trap 'cleanup; exit 130' INT TERM

# Warm-up, as in run-all.sh: WARMUP_STREAMS streams get WARMUP_EVENTS events through this instance, then
# close, so both backplanes are measured on a warm JVM.
warm_up() { # port label
    "$BUILD/sseload" --host 127.0.0.1 --port "$1" --src-ips "$SRC_IPS" --connect-timeout-s 30 --deadline-s 90 \
        --settle-ms 200 --linger-s 10 --streams "$WARMUP_STREAMS" --mode fanout --path /api/sse/stream \
        --expect-events "$WARMUP_EVENTS" --publish-url-host 127.0.0.1 --publish-url-port "$1" \
        --publish-url-path /api/sse/events --publish-body-fmt "$PUB_BODY" --events "$WARMUP_EVENTS" --rate 0 \
        --label "$2/warmup" >"$BUILD/logs/redis-warmup.json" 2>>"$BUILD/logs/redis-warmup.err" \
        || log "$2: warm-up failed (see bench/build/logs/redis-warmup.err)"
}

# ---------------------------------------------------------------- fan-out scenarios
run_fanout() { # scenario round
    local scen=$1 round=$2 backplane mode events rate linger dl
    case $scen in
    memory-*) backplane=memory mode=none ;;
    redis-*) backplane=redis mode=none ;;
    aof-*) backplane=redis mode=aof ;;
    esac
    local streams=$STREAMS
    case $scen in
    *-burst) events=1000 rate=0 linger=60 ;;
    *-paced) events=200 rate=20 linger=10 ;;
    *-hop) events=200 rate=20 linger=10 streams=10 ;;
    esac
    [ "$QUICK" = 1 ] && { if [ "$rate" = 0 ]; then events=200; else events=40; fi; }
    dl=$((60 + 120 + (rate > 0 ? events / rate : 0)))
    log "$scen round $round: 2 instances x $streams streams, $events events $([ "$rate" = 0 ] && echo burst || echo "at $rate/s")"

    if [ "$backplane" = redis ]; then start_redis "$mode" || return; fi
    start_hub a "$HUB_A" "$backplane" && start_hub b "$HUB_B" "$backplane" || { cleanup; return; }
    await_ready a "$HUB_A" && await_ready b "$HUB_B" || { cleanup; return; }
    warm_up "$HUB_A" "$scen/a"
    warm_up "$HUB_B" "$scen/b"
    sleep 1

    local tmp cpu0a cpu0b cpu0r cpu1a cpu1b cpu1r i
    tmp=$(mktemp -d "$BUILD/redis-run.XXXXXX")
    cpu0a=$(cpu_ticks "${HUB_PID[a]}") cpu0b=$(cpu_ticks "${HUB_PID[b]}") cpu0r=$(cpu_ticks "${REDIS_PID:-0}")
    local common=(--host 127.0.0.1 --src-ips "$SRC_IPS" --connect-timeout-s 60 --deadline-s "$dl" --streams "$streams"
        --mode fanout --path /api/sse/stream --expect-events "$events" --emit-hist)
    # One publish connection, also when paced: publishes on one keep-alive connection are answered in order,
    # so the cluster's order is the publish order and B's driver (which sees no publish) can check it.
    local pub=(--publish-url-host 127.0.0.1 --publish-url-path /api/sse/events --publish-body-fmt "$PUB_BODY"
        --events "$events" --rate "$rate" --publish-conns 1 --settle-ms 1000 --linger-s "$linger")
    local args_a=("${common[@]}" --port "$HUB_A" --label "$scen/a" --ready-file "$tmp/ready-a" --done-file "$tmp/done-a"
        "${pub[@]}" --publish-url-port "$HUB_A" --wait-files "$tmp/ready-b")
    local args_b=("${common[@]}" --port "$HUB_B" --stream-offset "$streams" --label "$scen/b" --ready-file "$tmp/ready-b"
        --done-file "$tmp/done-b")
    if [ "$backplane" = memory ]; then
        # Each memory instance is its own cluster: it gets its own publisher, and both start together.
        args_b+=("${pub[@]}" --publish-url-port "$HUB_B" --wait-files "$tmp/ready-a")
    else
        # B only receives, through Redis: it ends when every stream has every event, or when told to
        # (below, a while after A's driver is done, so that events still on their way are not cut off).
        args_b+=(--stop-file "$tmp/stop-b")
    fi
    timeout -k 5 $((dl + 30)) "$BUILD/sseload" "${args_a[@]}" >"$tmp/part-a.json" 2>"$tmp/part-a.err" &
    local pa=$!
    timeout -k 5 $((dl + 30)) "$BUILD/sseload" "${args_b[@]}" >"$tmp/part-b.json" 2>"$tmp/part-b.err" &
    local pb=$!
    wait "$pa"
    for ((i = 0; i < linger * 10; i++)); do kill -0 "$pb" 2>/dev/null || break; sleep 0.1; done
    touch "$tmp/stop-b"
    wait "$pb"
    cpu1a=$(cpu_ticks "${HUB_PID[a]}") cpu1b=$(cpu_ticks "${HUB_PID[b]}") cpu1r=$(cpu_ticks "${REDIS_PID:-0}")
    local alive=true
    kill -0 "${HUB_PID[a]}" 2>/dev/null && kill -0 "${HUB_PID[b]}" 2>/dev/null || alive=false
    local stream_len=""
    [ -n "$REDIS_PID" ] && stream_len=$(redis-cli -p "$REDIS_PORT" XLEN '{sse}:events' 2>/dev/null)
    cleanup

    python3 "$BENCH/merge.py" "$tmp/part-a.json" "$tmp/part-b.json" >"$tmp/merged.json" 2>"$tmp/merge.err"
    if [ ! -s "$tmp/merged.json" ]; then
        log "$scen: no result: $(cat "$tmp"/part-*.err "$tmp/merge.err" | tail -3 | tr '\n' ' ')"
        rm -rf "$tmp"
        return
    fi
    local cmd_a cmd_b
    cmd_a=$(printf '%q ' "$BUILD/sseload" "${args_a[@]}")
    cmd_b=$(printf '%q ' "$BUILD/sseload" "${args_b[@]}")
    R_SCEN=$scen R_ROUND=$round R_BACKPLANE=$backplane R_PERSIST=$mode R_STREAMS=$streams R_EVENTS=$events R_RATE=$rate \
    R_QUICK=$QUICK R_CPU_A=$((cpu1a - cpu0a)) R_CPU_B=$((cpu1b - cpu0b)) R_CPU_R=$(( ${cpu1r:-0} - ${cpu0r:-0} )) \
    R_CLK=$CLK_TCK R_ALIVE=$alive R_XLEN="$stream_len" R_CMD_A="$cmd_a" R_CMD_B="$cmd_b" R_REDIS_MODE=$mode \
    R_HUB_ENV="$(env | grep -E '^(SSE_|QUARKUS_|HUB_JAVA_OPTS=)' | tr '\n' ' ')" \
        python3 - "$tmp/merged.json" "$tmp/part-a.json" "$tmp/part-b.json" >>"$RESULTS" <<'PY'
import json, os, sys, time
e = os.environ
merged = json.load(open(sys.argv[1]))
parts = [json.loads(next(l for l in open(f) if l.startswith("{"))) for f in sys.argv[2:]]
rec = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "bench": "redis", "scenario": e["R_SCEN"],
       "round": int(e["R_ROUND"]), "backplane": e["R_BACKPLANE"], "redis_persistence": e["R_PERSIST"] if e["R_BACKPLANE"] == "redis" else None,
       "instances": 2, "streams_per_instance": int(e["R_STREAMS"]), "events": int(e["R_EVENTS"]), "rate": float(e["R_RATE"]),
       "quick": e["R_QUICK"] == "1"}
keep = ["streams_established", "deliveries_expected", "deliveries", "missing", "duplicates", "out_of_order",
        "misdelivered", "errors", "complete", "deliveries_per_sec", "delivery_seconds", "lat_ms", "publish_rtt_ms",
        "events_published", "publish_2xx", "publish_seconds", "publish_lag_ms_max", "driver_cpu_s"]
rec.update({k: merged.get(k) for k in keep})
rec["per_instance"] = [{"label": p.get("label"), "deliveries": p.get("deliveries"), "complete": p.get("complete"),
                        "lat_ms": p.get("lat_ms"), "events_published": p.get("events_published")} for p in parts]
clk = int(e["R_CLK"])
rec["cpu_s"] = {"hub_a": int(e["R_CPU_A"]) / clk, "hub_b": int(e["R_CPU_B"]) / clk,
                "redis": int(e["R_CPU_R"]) / clk if e["R_BACKPLANE"] == "redis" else None}
rec["servers_alive_after"] = e["R_ALIVE"] == "true"
if e.get("R_XLEN"):
    rec["redis_stream_length_after"] = int(e["R_XLEN"])
rec["driver_cmds"] = [e["R_CMD_A"].strip(), e["R_CMD_B"].strip()]
rec["hub_env"] = e["R_HUB_ENV"].strip()
print(json.dumps(rec, separators=(",", ":")))
PY
    python3 - "$RESULTS" <<'PY' >&2
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
print("    ", json.dumps({k: r.get(k) for k in ("scenario", "deliveries_per_sec", "complete", "missing", "errors")}
                      | {"p50": r["lat_ms"]["p50"], "p99": r["lat_ms"]["p99"], "max": r["lat_ms"]["max"], "cpu_s": r["cpu_s"]}))
PY
    rm -rf "$tmp"
}

# ---------------------------------------------------------------- capacity of one Redis for this service
# One instance, no streams: first on the memory backplane (the reference), then on Redis (no persistence).
# Publishes/s accepted = 2xx answers / the driver's publish time; CPU of the hub and of redis-server over the
# same driver run. Then the publish script alone against Redis.
BATCH=50
batch_body() {
    local body="[" i
    for ((i = 0; i < BATCH; i++)); do
        [ "$i" -gt 0 ] && body+=","
        body+="{\"type\":\"bench\",\"data\":{\"seq\":{seq},\"i\":$i}}"
    done
    echo "$body]"
}

# kind: warmup | single | batch | single-32 (32 connections: more publishes in flight than the Redis client's
# own defaults take, 6 connections + 24 waiting; the service sets 16 + 1,024) | single-3-instances (as single,
# with two more instances tailing the stream)
capacity_publish() { # backplane kind round
    local backplane=$1 kind=$2 round=$3 n_single=20000 n_batch=1000
    [ "$QUICK" = 1 ] && n_single=2000 n_batch=100
    local body=$PUB_BODY n=$n_single per=1 conns=8 path=/api/sse/events
    case $kind in
    batch) body=$(batch_body) n=$n_batch per=$BATCH path=/api/sse/events/batch ;;
    single-32) conns=32 ;;
    esac
    local args=(--host 127.0.0.1 --port "$HUB_A" --streams 0 --mode fanout --deadline-s 300 --settle-ms 200
        --linger-s 1 --publish-url-host 127.0.0.1 --publish-url-port "$HUB_A" --publish-url-path "$path"
        --publish-body-fmt "$body" --events "$n" --rate 1000000 --publish-conns "$conns" --label "capacity/$kind")
    local c0h c0r c1h c1r t0 t1 info0="" info1=""
    c0h=$(cpu_ticks "${HUB_PID[a]}") c0r=$(cpu_ticks "${REDIS_PID:-0}") t0=$(date +%s%N)
    [ -n "$REDIS_PID" ] && info0=$(redis-cli -p "$REDIS_PORT" INFO commandstats | tr -d '\r' | grep -E '^cmdstat_(eval|xread):' | tr '\n' ' ')
    "$BUILD/sseload" "${args[@]}" >"$BUILD/logs/redis-capacity.json" 2>"$BUILD/logs/redis-capacity.err"
    c1h=$(cpu_ticks "${HUB_PID[a]}") c1r=$(cpu_ticks "${REDIS_PID:-0}") t1=$(date +%s%N)
    [ -n "$REDIS_PID" ] && info1=$(redis-cli -p "$REDIS_PORT" INFO commandstats | tr -d '\r' | grep -E '^cmdstat_(eval|xread):' | tr '\n' ' ')
    [ "$kind" = warmup ] && return
    R_KIND=$kind R_BACKPLANE=$backplane R_ROUND=$round R_PER=$per R_CONNS=$conns R_CPU_H=$((c1h - c0h)) \
    R_CPU_R=$(( ${c1r:-0} - ${c0r:-0} )) R_CLK=$CLK_TCK R_WALL_NS=$((t1 - t0)) R_INFO0="$info0" R_INFO1="$info1" \
    R_CMD="$(printf '%q ' "$BUILD/sseload" "${args[@]}")" R_QUICK=$QUICK \
        python3 - "$BUILD/logs/redis-capacity.json" >>"$RESULTS" <<'PY'
import json, os, re, sys, time
e = os.environ
d = json.loads(next(l for l in open(sys.argv[1]) if l.startswith("{")))
clk = int(e["R_CLK"])
per = int(e["R_PER"])
secs = d.get("publish_seconds") or 0
ok = d.get("publish_2xx", 0)
def stats(s):  # cmdstat_eval:calls=..,usec=..
    return {m.group(1): {"calls": int(m.group(2)), "usec": int(m.group(3))}
            for m in re.finditer(r"cmdstat_(\w+):calls=(\d+),usec=(\d+)", s)}
s0, s1 = stats(e["R_INFO0"]), stats(e["R_INFO1"])
delta = {k: {"calls": v["calls"] - s0.get(k, {}).get("calls", 0), "usec": v["usec"] - s0.get(k, {}).get("usec", 0)}
         for k, v in s1.items()}
events = ok * per
redis = e["R_BACKPLANE"] == "redis"
rec = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "bench": "redis",
       "scenario": "capacity-%s-%s" % (e["R_BACKPLANE"], e["R_KIND"]), "backplane": e["R_BACKPLANE"],
       "round": int(e["R_ROUND"]), "quick": e["R_QUICK"] == "1", "instances": 1, "streams_per_instance": 0,
       "events_per_request": per, "publish_conns": int(e["R_CONNS"]), "requests": d.get("events_published"),
       "requests_2xx": ok, "requests_refused": d.get("events_published", 0) - ok, "publish_seconds": secs,
       "requests_per_sec": round(ok / secs, 1) if secs else None,
       "events_per_sec": round(events / secs, 1) if secs else None, "publish_rtt_ms": d.get("publish_rtt_ms"),
       "cpu_s": {"hub": int(e["R_CPU_H"]) / clk, "redis": int(e["R_CPU_R"]) / clk if redis else None},
       "window_seconds": int(e["R_WALL_NS"]) / 1e9, "driver_cmd": e["R_CMD"].strip()}
if redis:
    rec["redis_commandstats"] = delta
w = rec["window_seconds"]
rec["cpu_frac"] = {k: (round(v / w, 3) if v is not None else None) for k, v in rec["cpu_s"].items()}
rec["redis_cpu_us_per_event"] = round(rec["cpu_s"]["redis"] * 1e6 / events, 2) if redis and events else None
print(json.dumps(rec, separators=(",", ":")))
PY
    python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print("    ", {k: r.get(k) for k in ("scenario","requests_2xx","requests_refused","events_per_sec","cpu_frac","redis_cpu_us_per_event")})' "$RESULTS" >&2
}

run_capacity() { # round
    local round=$1 kind
    log "capacity round $round: one instance on the memory backplane, no streams"
    start_hub a "$HUB_A" memory && await_ready a "$HUB_A" || { cleanup; return; }
    for kind in warmup single batch; do capacity_publish memory "$kind" "$round"; done
    stop_hubs
    log "capacity round $round: one instance on Redis, no streams"
    start_redis none || return
    start_hub a "$HUB_A" redis && await_ready a "$HUB_A" || { cleanup; return; }
    for kind in warmup single batch single-32; do capacity_publish redis "$kind" "$round"; done
    # Every instance reads every entry: two more instances tailing the stream (no streams, no publishing).
    start_hub b "$HUB_B" redis && start_hub c $((BASE_PORT + 2)) redis && await_ready b "$HUB_B" \
        && await_ready c $((BASE_PORT + 2)) && capacity_publish redis single-3-instances "$round"
    stop_hubs

    # The publish script alone, as the hub sends it (EVAL, 3 keys: stream, epoch, no-key placeholder), on a
    # key prefix of its own, from redis-benchmark (16 connections x 16 pipelined): Redis's own ceiling.
    local script sha out
    script=$(python3 - "$ROOT/src/main/java/dev/ssehub/backplane/RedisBackplane.java" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
m = re.search(r'String PUBLISH = """\n(.*?)""";', src, re.S)
lines = m.group(1).split("\n")
indent = min(len(l) - len(l.lstrip()) for l in lines if l.strip())
print("\n".join(l[indent:] for l in lines), end="")
PY
)
    script+=$'\n' # the text block ends with a newline, which $(...) dropped
    # The same text the hub sent with EVAL is already cached under its SHA-1: check that it is the same script.
    sha=$(printf '%s' "$script" | sha1sum | cut -d' ' -f1)
    local same
    same=$(redis-cli -p "$REDIS_PORT" SCRIPT EXISTS "$sha" | tr -d '\r')
    [ "$same" = 1 ] || log "    warning: the script extracted from RedisBackplane.java is not the one the hub ran"
    sha=$(redis-cli -p "$REDIS_PORT" SCRIPT LOAD "$script")
    local n=200000
    [ "$QUICK" = 1 ] && n=20000
    local c0r c1r t0 t1
    c0r=$(cpu_ticks "$REDIS_PID") t0=$(date +%s%N)
    out=$(redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -n "$n" -c 16 -P 16 -q \
        EVALSHA "$sha" 3 '{bench}:events' '{bench}:epoch' '{bench}:nokey' 10000 0f0e0d0c-epoch 300000 '' bench \
        '{"seq":1,"ts":1796400000000000}' '' 2>&1 | tr '\r' '\n' | grep -E 'requests per second' | tail -1)
    c1r=$(cpu_ticks "$REDIS_PID") t1=$(date +%s%N)
    R_OUT="$out" R_SAME="$same" R_ROUND=$round R_N=$n R_SHA=$sha R_CPU_R=$((c1r - c0r)) R_CLK=$CLK_TCK R_WALL_NS=$((t1 - t0)) R_QUICK=$QUICK \
    R_XLEN=$(redis-cli -p "$REDIS_PORT" XLEN '{bench}:events') python3 - >>"$RESULTS" <<'PY'
import json, os, re, time
e = os.environ
m = re.search(r"([\d.]+) requests per second", e["R_OUT"])
rps = float(m.group(1)) if m else None
w = int(e["R_WALL_NS"]) / 1e9
print(json.dumps({"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "bench": "redis",
                  "scenario": "capacity-script-alone", "round": int(e["R_ROUND"]), "quick": e["R_QUICK"] == "1",
                  "requests": int(e["R_N"]), "events_per_sec": rps, "script_sha1": e["R_SHA"],
                  "script_is_the_hubs": e["R_SAME"] == "1",
                  "cpu_s": {"redis": int(e["R_CPU_R"]) / int(e["R_CLK"])}, "window_seconds": w,
                  "cpu_frac": {"redis": round(int(e["R_CPU_R"]) / int(e["R_CLK"]) / w, 3)},
                  "stream_length_after": int(e["R_XLEN"] or 0),
                  "cmd": "redis-benchmark -n %s -c 16 -P 16 EVALSHA <PUBLISH script> 3 {bench}:events {bench}:epoch {bench}:nokey 10000 <epoch> 300000 '' bench <data> ''" % e["R_N"]},
                 separators=(",", ":")))
PY
    log "    publish script alone: $out"
    cleanup
}

# ---------------------------------------------------------------- main
install_deps
log "results -> $RESULTS; hub ports $HUB_A $HUB_B, redis $REDIS_PORT; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
start_all=$(date +%s)
for ((round = 1; round <= RUNS; round++)); do
    for scen in $SCENARIOS; do
        case $scen in
        capacity) run_capacity "$round" ;;
        memory-* | redis-* | aof-*) run_fanout "$scen" "$round" ;;
        *) log "unknown scenario $scen" ;;
        esac
    done
done
log "done in $(($(date +%s) - start_all)) s; load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$BENCH/redis_report.py" "$RESULTS"
