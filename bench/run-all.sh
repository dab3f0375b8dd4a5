#!/usr/bin/env bash
# SSE benchmark runner: builds the C pieces, installs the peers, runs every scenario against every
# server, appends one JSON line per (server, scenario) to bench/results/<date>.jsonl and renders
# bench/results/latest.md and docs/img/fanout.png. See bench/README.md.
#
#   bash bench/run-all.sh                              everything (hub, nchan, better-sse, limit)
#   SERVERS="limit nchan" bash bench/run-all.sh        a subset (also: nchan-auto = nginx worker_processes auto)
#   SCENARIOS="fanout-burst-10k storm-10k" bash bench/run-all.sh
#   QUICK=1 bash bench/run-all.sh                      smoke test: N/20 streams, fewer events, short holds
#
# Other knobs: WARMUP=0 (measure cold servers), PROCS=n (split the streams over n sseload processes), SRC_IPS=32 (source addresses
# 127.0.0.2..), BASE_PORT=18100, NO_INSTALL=1 (skip apt/npm), HUB_JAVA_OPTS="-Xmx2g ..." (hub JVM flags),
# SSE_* variables (passed through to the hub), RESULTS=file.jsonl, REPORT=0 (no report at the end).
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
BUILD="$BENCH/build"
SERVERS=${SERVERS:-"hub nchan better-sse limit"}
ALL_SCENARIOS="idle-1k idle-10k idle-19k fanout-lat-1k fanout-lat-10k fanout-burst-1k fanout-burst-10k targeted-10k storm-10k"
SCENARIOS=${SCENARIOS:-$ALL_SCENARIOS}
QUICK=${QUICK:-0}
PROCS=${PROCS:-1}
SRC_IPS=${SRC_IPS:-32}
BASE_PORT=${BASE_PORT:-18100}
NO_INSTALL=${NO_INSTALL:-0}
REPORT=${REPORT:-1}
SETTLE_MS=${SETTLE_MS:-1000}
WARMUP=${WARMUP:-1}
WARMUP_STREAMS=${WARMUP_STREAMS:-1000}
WARMUP_EVENTS=${WARMUP_EVENTS:-2000}
CONNECT_TIMEOUT=${CONNECT_TIMEOUT:-60}
DAY=$(date -u +%Y-%m-%d)
mkdir -p "$BENCH/results" "$BUILD/logs"
if [ "$QUICK" = 1 ]; then
    RESULTS=${RESULTS:-$BENCH/results/$DAY-quick.jsonl}
    MD_OUT=${MD_OUT:-$BUILD/quick.md}
    PNG_OUT=${PNG_OUT:-$BUILD/fanout-quick.png}
else
    RESULTS=${RESULTS:-$BENCH/results/$DAY.jsonl}
    MD_OUT=${MD_OUT:-$BENCH/results/latest.md}
    PNG_OUT=${PNG_OUT:-$ROOT/docs/img/fanout.png}
fi

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" -lt 19100 ]; then
    log "warning: ulimit -n is $(ulimit -n); the 19k scenario needs 20000"
fi

# ---------------------------------------------------------------- install and build
want() { case " $SERVERS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

PYPLOT=""
find_pyplot() {
    for py in /usr/bin/python3 python3; do
        if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import matplotlib' >/dev/null 2>&1; then
            PYPLOT=$py
            return 0
        fi
    done
    return 1
}

install_deps() {
    local need=()
    command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
    if want nchan || want nchan-auto; then
        command -v nginx >/dev/null 2>&1 || need+=(nginx)
        [ -f /usr/lib/nginx/modules/ngx_nchan_module.so ] || need+=(libnginx-mod-nchan)
    fi
    [ "$REPORT" = 1 ] && ! find_pyplot && need+=(python3-matplotlib)
    if [ ${#need[@]} -gt 0 ]; then
        if [ "$NO_INSTALL" = 1 ]; then
            log "missing ${need[*]} (NO_INSTALL=1: not installing)"
        else
            log "apt-get install ${need[*]}"
            apt-get update -q >"$BUILD/logs/apt.log" 2>&1
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >>"$BUILD/logs/apt.log" 2>&1 \
                || log "apt-get install failed: see $BUILD/logs/apt.log"
        fi
    fi
    if want better-sse && [ ! -d "$BENCH/peers/better-sse/node_modules/better-sse" ] && [ "$NO_INSTALL" != 1 ]; then
        log "npm ci (better-sse)"
        (cd "$BENCH/peers/better-sse" && npm ci --no-audit --no-fund >"$BUILD/logs/npm.log" 2>&1) \
            || log "npm ci failed: see $BUILD/logs/npm.log"
    fi
    find_pyplot || true
}

build() {
    gcc -O2 -Wall -Wextra -o "$BUILD/sseload" "$BENCH/sseload.c" || exit 1
    gcc -O2 -Wall -Wextra -o "$BUILD/limit" "$BENCH/peers/limit.c" || exit 1
}

# ---------------------------------------------------------------- servers
# sets SUB_PATH SUB_FMT PUB_PATH PUB_BODY TPUB_PATH TPUB_BODY for server $1
server_api() {
    local raw='{"seq":{seq},"ts":{ts}}'
    case $1 in
    hub)
        SUB_PATH=/api/sse/stream SUB_FMT='/api/sse/stream?userId=u%d'
        PUB_PATH=/api/sse/events PUB_BODY='{"type":"bench","data":{"seq":{seq},"ts":{ts}}}'
        TPUB_PATH=/api/sse/events TPUB_BODY='{"type":"bench","data":{"seq":{seq},"ts":{ts}},"target":{"userIds":["u0"]}}' ;;
    nchan | nchan-auto)
        SUB_PATH=/sub/all SUB_FMT='/sub/u%d' PUB_PATH=/pub/all PUB_BODY=$raw TPUB_PATH=/pub/u0 TPUB_BODY=$raw ;;
    better-sse)
        SUB_PATH=/stream SUB_FMT='/stream?userId=u%d' PUB_PATH=/publish PUB_BODY=$raw
        TPUB_PATH='/publish?userId=u0' TPUB_BODY=$raw ;;
    limit) # broadcast only: no targeted scenario
        SUB_PATH=/stream SUB_FMT='/stream?userId=u%d' PUB_PATH=/publish PUB_BODY=$raw TPUB_PATH='' TPUB_BODY='' ;;
    *) return 1 ;;
    esac
}

server_cmd() {
    case $1 in
    hub) echo "$BENCH/peers/hub.sh $2" ;;
    nchan) echo "$BENCH/peers/nchan.sh $2 1" ;;
    nchan-auto) echo "$BENCH/peers/nchan.sh $2 auto" ;;
    better-sse) echo "$BENCH/peers/better-sse.sh $2" ;;
    limit) echo "$BENCH/peers/limit.sh $2" ;;
    esac
}

SERVER_PID=""
server_pids() { # the server and its children (nginx master + workers)
    [ -n "$SERVER_PID" ] || return 0
    echo "$SERVER_PID"
    ps -o pid= --ppid "$SERVER_PID" 2>/dev/null | tr -d ' '
}
rss_kb() {
    local t=0 v p
    for p in $(server_pids); do
        v=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null)
        t=$((t + ${v:-0}))
    done
    echo "$t"
}
cpu_ticks() {
    local t=0 v p
    for p in $(server_pids); do
        v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}')
        t=$((t + ${v:-0}))
    done
    echo "$t"
}
CLK_TCK=$(getconf CLK_TCK)
PAGE_KB=$(($(getconf PAGESIZE) / 1024))
tcp_mem_kb() { # kernel memory of all TCP sockets (both ends: server and driver), from /proc/net/sockstat
    awk -v pk="$PAGE_KB" '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1) * pk }' /proc/net/sockstat
}

wait_port() { # port timeout_s
    local i
    for ((i = 0; i < $2 * 5; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}

start_server() { # server port logfile
    local cmd
    cmd=$(server_cmd "$1" "$2")
    # shellcheck disable=SC2086
    $cmd >"$3" 2>&1 &
    SERVER_PID=$!
    if ! wait_port "$2" 90; then
        log "$1 did not start on port $2 (log: $3)"
        stop_server
        return 1
    fi
    SERVER_CMD="$cmd"
    SERVER_EXEC=$(tr '\0' ' ' <"/proc/$SERVER_PID/cmdline" 2>/dev/null | sed 's/ $//')
    SERVER_ENV=$(tr '\0' '\n' <"/proc/$SERVER_PID/environ" 2>/dev/null | grep -E '^(SSE_|QUARKUS_|JAVA_|BETTER_SSE_)' | tr '\n' ' ' | sed 's/ $//')
    SERVER_WORKERS=$(server_pids | tr '\n' ' ')
    return 0
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    local pids i
    pids=$(server_pids)
    kill -TERM "$SERVER_PID" 2>/dev/null
    for ((i = 0; i < 150; i++)); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    for p in $pids; do kill -KILL "$p" 2>/dev/null; done
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
}
trap 'stop_server; exit 130' INT TERM

# ---------------------------------------------------------------- scenarios
# sets KIND N EVENTS RATE HOLD
scenario_params() {
    EVENTS=0 RATE=0 HOLD=8
    case $1 in
    idle-1k) KIND=idle N=1000 ;;
    idle-10k) KIND=idle N=10000 ;;
    idle-19k) KIND=idle N=19000 ;;
    fanout-lat-1k) KIND=fanout N=1000 EVENTS=200 RATE=20 ;;
    fanout-lat-10k) KIND=fanout N=10000 EVENTS=200 RATE=20 ;;
    fanout-burst-1k) KIND=fanout N=1000 EVENTS=1000 RATE=0 ;;
    fanout-burst-10k) KIND=fanout N=10000 EVENTS=1000 RATE=0 ;;
    targeted-10k) KIND=targeted N=10000 EVENTS=200 RATE=20 ;;
    storm-10k) KIND=storm N=10000 ;;
    *) return 1 ;;
    esac
    if [ "$QUICK" = 1 ]; then
        N=$((N / 20)) HOLD=3
        [ "$EVENTS" -gt 0 ] && { if [ "$RATE" = 0 ]; then EVENTS=200; else EVENTS=40; fi; }
    fi
    return 0
}

PORT_SEQ=0
run_scenario() { # server scenario
    local server=$1 scen=$2 port tmp dl linger
    scenario_params "$scen" || { log "unknown scenario $scen"; return; }
    server_api "$server" || { log "unknown server $server"; return; }
    if [ "$KIND" = targeted ] && [ -z "$TPUB_PATH" ]; then
        log "$server/$scen: skipped ($server has no per-user targeting)"
        return
    fi
    port=$((BASE_PORT + PORT_SEQ))
    PORT_SEQ=$((PORT_SEQ + 1))
    tmp=$(mktemp -d "$BUILD/run.XXXXXX")
    local slog="$BUILD/logs/$server-$scen.log"
    log "$server/$scen: N=$N events=$EVENTS rate=$RATE port=$port"
    if ! start_server "$server" "$port" "$slog"; then
        emit_error "$server" "$scen" "server did not start (see bench/build/logs/$server-$scen.log)"
        rm -rf "$tmp"
        return
    fi
    sleep 1
    if [ "$WARMUP" = 1 ]; then warm_up "$port" "$server/$scen"; fi
    local rss0 cpu0 rss_hold="" rss_after cpu1 tcp0 tcp_hold=""
    rss0=$(rss_kb)
    tcp0=$(tcp_mem_kb)
    cpu0=$(cpu_ticks)

    # driver arguments
    local common=(--host 127.0.0.1 --port "$port" --src-ips "$SRC_IPS" --connect-timeout-s "$CONNECT_TIMEOUT"
        --label "$server/$scen")
    local mode=() pub=()
    case $KIND in
    idle)
        dl=$((CONNECT_TIMEOUT + HOLD + 30))
        mode=(--mode idle --path "$SUB_PATH" --hold-s "$HOLD") ;;
    storm)
        dl=$((CONNECT_TIMEOUT + 30))
        mode=(--mode storm --path "$SUB_PATH" --max-pending 0) ;;
    fanout | targeted)
        if [ "$RATE" = 0 ]; then linger=60 dl=$((CONNECT_TIMEOUT + 240)); else linger=10 dl=$((CONNECT_TIMEOUT + EVENTS / RATE + 60)); fi
        [ "$QUICK" = 1 ] && linger=5
        if [ "$KIND" = fanout ]; then
            mode=(--mode fanout --path "$SUB_PATH" --expect-events "$EVENTS")
            pub=(--publish-url-host 127.0.0.1 --publish-url-port "$port" --publish-url-path "$PUB_PATH"
                --publish-body-fmt "$PUB_BODY")
        else
            mode=(--mode fanout --path-fmt "$SUB_FMT" --expect-events "$EVENTS" --expect-streams 1)
            pub=(--publish-url-host 127.0.0.1 --publish-url-port "$port" --publish-url-path "$TPUB_PATH"
                --publish-body-fmt "$TPUB_BODY")
        fi
        pub+=(--events "$EVENTS" --rate "$RATE" --settle-ms "$SETTLE_MS" --linger-s "$linger") ;;
    esac
    common+=(--deadline-s "$dl")

    # launch PROCS driver processes; process 0 publishes once every process is connected
    local procs=$PROCS per j off cnt args pids=() cmds=""
    [ "$procs" -lt 1 ] && procs=1
    per=$(((N + procs - 1) / procs))
    local waits=""
    for ((j = 1; j < procs; j++)); do waits+="${waits:+,}$tmp/ready$j"; done
    for ((j = 0; j < procs; j++)); do
        off=$((j * per))
        cnt=$((N - off < per ? N - off : per))
        args=("${common[@]}" "${mode[@]}" --streams "$cnt" --stream-offset "$off" --ready-file "$tmp/ready$j"
            --done-file "$tmp/done$j")
        [ "$procs" -gt 1 ] && args+=(--emit-hist)
        if [ "$j" = 0 ]; then
            args+=("${pub[@]}")
            [ -n "$waits" ] && [ ${#pub[@]} -gt 0 ] && args+=(--wait-files "$waits")
        elif [ ${#pub[@]} -gt 0 ]; then
            args+=(--stop-file "$tmp/done0")
        fi
        cmds+="$(printf '%q ' "$BUILD/sseload" "${args[@]}" | sed 's/ $//');"
        timeout -k 5 $((dl + 30)) "$BUILD/sseload" "${args[@]}" >"$tmp/part$j.json" 2>"$tmp/part$j.err" &
        pids+=($!)
    done

    if [ "$KIND" = idle ]; then # server RSS while the streams are held
        local t
        for ((t = 0; t < (CONNECT_TIMEOUT + 10) * 10; t++)); do
            local ready=1
            for ((j = 0; j < procs; j++)); do [ -f "$tmp/ready$j" ] || ready=0; done
            [ "$ready" = 1 ] && break
            kill -0 "${pids[0]}" 2>/dev/null || break
            sleep 0.1
        done
        sleep 2
        rss_hold=$(rss_kb)
        tcp_hold=$(tcp_mem_kb)
    fi
    for p in "${pids[@]}"; do wait "$p"; done
    rss_after=$(rss_kb)
    cpu1=$(cpu_ticks)
    local alive=true
    kill -0 "$SERVER_PID" 2>/dev/null || alive=false
    stop_server

    local merged="$tmp/merged.json"
    if [ "$procs" -gt 1 ]; then
        python3 "$BENCH/merge.py" "$tmp"/part*.json >"$merged" 2>"$tmp/merge.err"
    else
        grep '^{' "$tmp/part0.json" >"$merged"
    fi
    if [ ! -s "$merged" ]; then
        emit_error "$server" "$scen" "driver produced no result: $(cat "$tmp"/part*.err | tail -3 | tr '\n' ' ')"
        rm -rf "$tmp"
        return
    fi
    BENCH_SERVER=$server BENCH_SCENARIO=$scen BENCH_KIND=$KIND BENCH_N=$N BENCH_EVENTS=$EVENTS BENCH_RATE=$RATE \
    BENCH_QUICK=$QUICK BENCH_WARMUP=$WARMUP BENCH_PROCS=$procs BENCH_SERVER_CMD="$SERVER_CMD" BENCH_SERVER_EXEC="$SERVER_EXEC" \
    BENCH_SERVER_ENV="$SERVER_ENV" BENCH_SERVER_PIDS="$SERVER_WORKERS" BENCH_DRIVER_CMD="$cmds" \
    BENCH_TCP0=$tcp0 BENCH_TCP_HOLD=$tcp_hold BENCH_RSS0=$rss0 BENCH_RSS_HOLD=$rss_hold BENCH_RSS_AFTER=$rss_after \
    BENCH_CPU=$(((cpu1 - cpu0))) BENCH_CLK=$CLK_TCK BENCH_ALIVE=$alive \
        python3 - "$merged" >>"$RESULTS" <<'PY'
import json, os, sys, time, platform
d = json.load(open(sys.argv[1]))
e = os.environ
rec = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "server": e["BENCH_SERVER"],
       "scenario": e["BENCH_SCENARIO"], "kind": e["BENCH_KIND"], "n": int(e["BENCH_N"]),
       "events": int(e["BENCH_EVENTS"]), "rate": float(e["BENCH_RATE"]), "quick": e["BENCH_QUICK"] == "1",
       "procs": int(e["BENCH_PROCS"]), "warmup": e.get("BENCH_WARMUP") == "1"}
rec.update(d)
rss0 = int(e["BENCH_RSS0"] or 0)
rec["server_rss_baseline_kb"] = rss0
if e.get("BENCH_RSS_HOLD"):
    hold = int(e["BENCH_RSS_HOLD"])
    rec["server_rss_hold_kb"] = hold
    est = d.get("streams_established") or 0
    rec["server_rss_per_stream_kb"] = round((hold - rss0) / est, 2) if est else None
    if e.get("BENCH_TCP_HOLD"):
        rec["kernel_tcp_mem_delta_kb"] = int(e["BENCH_TCP_HOLD"]) - int(e.get("BENCH_TCP0") or 0)
rec["server_rss_after_kb"] = int(e["BENCH_RSS_AFTER"] or 0)
rec["server_cpu_s"] = round(int(e["BENCH_CPU"]) / int(e["BENCH_CLK"]), 2)
drv = d.get("driver_cpu_s", {})
rec["driver_cpu_frac"] = round((drv.get("user", 0) + drv.get("sys", 0)) / d["wall_seconds"], 3) if d.get("wall_seconds") else None
rec["server_alive_after"] = e["BENCH_ALIVE"] == "true"
rec["server_cmd"] = e["BENCH_SERVER_CMD"]
rec["server_exec"] = e["BENCH_SERVER_EXEC"]
if e.get("BENCH_SERVER_ENV"):
    rec["server_env"] = e["BENCH_SERVER_ENV"]
rec["server_pids"] = e["BENCH_SERVER_PIDS"].split()
rec["driver_cmd"] = e["BENCH_DRIVER_CMD"].rstrip(";")
try:
    rng = open("/proc/sys/net/ipv4/ip_local_port_range").read().split()
except OSError:
    rng = []
rec["host"] = {"cpus": os.cpu_count(), "kernel": platform.release(), "ip_local_port_range": rng}
print(json.dumps(rec, separators=(",", ":")))
PY
    python3 - "$RESULTS" <<'PY' >&2
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
keys = ["streams_established", "connect_seconds", "deliveries_per_sec", "complete", "missing", "errors",
        "server_rss_per_stream_kb", "server_cpu_s", "driver_cpu_frac"]
out = {k: r.get(k) for k in keys if k in r}
out["lat_p99_ms"] = r.get("lat_ms", {}).get("p99")
print("    ", json.dumps(out))
PY
    rm -rf "$tmp"
}

# Warm-up, the same for every server: WARMUP_STREAMS (1000) streams get WARMUP_EVENTS (2000) broadcast events, and when the server targets
# users, 500 events go to one user; then the streams close. The baseline RSS and CPU are read after it, so
# one-time costs (JIT compilation, class loading, allocator arenas, nginx's shared memory) are not counted
# per stream, and a JVM is measured warm, as a long-running service is.
warm_up() { # port label
    local w=(--host 127.0.0.1 --port "$1" --src-ips "$SRC_IPS" --connect-timeout-s 30 --deadline-s 60
        --settle-ms 200 --linger-s 5 --streams "$WARMUP_STREAMS" --publish-url-host 127.0.0.1 --publish-url-port "$1")
    "$BUILD/sseload" "${w[@]}" --label "$2/warmup" --mode fanout --path "$SUB_PATH" --expect-events "$WARMUP_EVENTS" \
        --publish-url-path "$PUB_PATH" --publish-body-fmt "$PUB_BODY" --events "$WARMUP_EVENTS" --rate 0 \
        >"$BUILD/logs/warmup.json" 2>>"$BUILD/logs/warmup.err" || log "$2: warm-up failed (see bench/build/logs/warmup.err)"
    if [ -n "$TPUB_PATH" ]; then
        "$BUILD/sseload" "${w[@]}" --label "$2/warmup-targeted" --mode fanout --path-fmt "$SUB_FMT" --expect-events 500 \
            --expect-streams 1 --publish-url-path "$TPUB_PATH" --publish-body-fmt "$TPUB_BODY" --events 500 --rate 0 \
            >>"$BUILD/logs/warmup.json" 2>>"$BUILD/logs/warmup.err" || log "$2: targeted warm-up failed"
    fi
    sleep 1
}

emit_error() { # server scenario message
    BENCH_SERVER=$1 BENCH_SCENARIO=$2 BENCH_MSG=$3 BENCH_QUICK=$QUICK python3 - >>"$RESULTS" <<'PY'
import json, os, time
e = os.environ
print(json.dumps({"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "server": e["BENCH_SERVER"],
                  "scenario": e["BENCH_SCENARIO"], "quick": e["BENCH_QUICK"] == "1", "error": e["BENCH_MSG"]}))
PY
    log "$1/$2: ERROR $3"
}

# ---------------------------------------------------------------- main
install_deps
build
log "ip_local_port_range: $(sysctl -n net.ipv4.ip_local_port_range 2>/dev/null | tr '\t' ' '); src-ips=$SRC_IPS; results -> $RESULTS"
start_all=$(date +%s)
for server in $SERVERS; do
    if [ "$server" = hub ] && [ ! -f "$ROOT/target/quarkus-app/quarkus-run.jar" ]; then
        log "hub: target/quarkus-app/quarkus-run.jar missing (build with ./mvnw package -DskipTests): skipped"
        emit_error hub all "target/quarkus-app/quarkus-run.jar missing"
        continue
    fi
    for scen in $SCENARIOS; do
        run_scenario "$server" "$scen"
    done
done
log "all scenarios done in $(($(date +%s) - start_all)) s"
if [ "$REPORT" = 1 ]; then
    if [ -z "$PYPLOT" ]; then
        log "no python with matplotlib: markdown only"
        python3 "$BENCH/report.py" "$RESULTS" --md "$MD_OUT"
    else
        mkdir -p "$(dirname "$PNG_OUT")"
        "$PYPLOT" "$BENCH/report.py" "$RESULTS" --md "$MD_OUT" --png "$PNG_OUT"
    fi
    log "report: $MD_OUT${PYPLOT:+ and $PNG_OUT}"
fi
