#!/usr/bin/env bash
# What a client sees when the Redis backplane fails: each case starts its own redis-server and hub
# instances (peers/hub.sh, loopback ports), holds SSE streams open with curl, publishes with curl, breaks
# something, and prints what publishers, readiness and streams saw. The observations are what
# docs/scaling.md ("Failure modes") reports. Bounded: a few events, a few seconds per case.
#
#   bash bench/redis-failures.sh                 every case
#   CASES="hang rdb-crash" bash bench/redis-failures.sh
#
# Cases:
#   hang        redis-server stopped with SIGSTOP (a hung or partitioned Redis: no RST), 20 s; then SIGCONT.
#               Once with the defaults, once with QUARKUS_REDIS_TCP_READ_IDLE_TIMEOUT=5s.
#   rdb-crash   Redis with RDB snapshots killed with SIGKILL after a snapshot and 10 more events, restarted
#               from the snapshot: the epoch survives, the last events do not. Two running instances and
#               one started afterwards.
#   lag         instance B frozen (SIGSTOP) while 3,000 events are published on A, with sse.replay.size=100
#               (the stream keeps about 1,000): what B's clients get when it resumes.
#   oom         Redis at maxmemory (noeviction): what a publish gets.
#   pool        128 concurrent publishes against one instance: with the service's pool (16 connections, 1,024
#               waiting), then with the Redis client's own defaults (6 connections, 24 waiting).
#   sentinel    a master, a replica and one sentinel; the master killed while A publishes 20/s; what the
#               publisher and a stream on B see through the failover.
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
BUILD="$BENCH/build/failures"
CASES=${CASES:-"hang rdb-crash lag oom pool sentinel"}
BASE_PORT=${BASE_PORT:-18500}
REDIS_PORT=$((BASE_PORT + 79))
mkdir -p "$BUILD"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S.%3N)" "$*"; }
say() { printf '    %s\n' "$*"; }

[ -f "$ROOT/target/quarkus-app/quarkus-run.jar" ] || { echo "build the jar first: ./mvnw package -DskipTests" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server missing (bench/redis.sh installs it)" >&2; exit 1; }

declare -A PID
REDIS_DIR=""
start_redis() { # extra redis-server arguments...
    [ -n "$REDIS_DIR" ] || REDIS_DIR=$(mktemp -d "$BUILD/redis.XXXXXX")
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" --daemonize no \
        --logfile "$BUILD/redis.log" "$@" </dev/null >/dev/null 2>&1 &
    PID[redis]=$!
    local i
    for ((i = 0; i < 100; i++)); do
        redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.1
    done
    echo "redis-server did not start" >&2
    return 1
}
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

start_hub() { # name port [VAR=value...]
    local name=$1 port=$2
    shift 2
    env SSE_BACKPLANE=redis QUARKUS_REDIS_HOSTS="redis://127.0.0.1:$REDIS_PORT" SSE_HEARTBEAT_INTERVAL=2s "$@" \
        "$BENCH/peers/hub.sh" "$port" >"$BUILD/hub-$name.log" 2>&1 &
    PID[$name]=$!
    local i
    for ((i = 0; i < 300; i++)); do
        [ "$(ready "$port")" = 200 ] && return 0
        sleep 0.2
    done
    echo "hub $name did not get ready (log: $BUILD/hub-$name.log)" >&2
    return 1
}
ready() { curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$1/q/health/ready"; }

# An SSE client: curl holds the stream, its frames go to a file.
open_stream() { # name port [lastEventId]
    local url="http://127.0.0.1:$2/api/sse/stream?topic=t"
    [ -n "${3:-}" ] && url+="&lastEventId=$3"
    curl -sN "$url" >"$BUILD/stream-$1.txt" 2>/dev/null &
    PID[stream-$1]=$!
    sleep 0.5
}
ids() { grep '^id: ' "$BUILD/stream-$1.txt" | cut -d' ' -f2; }
datas() { grep -A1 '^event: t$' "$BUILD/stream-$1.txt" | grep '^data: ' | cut -d' ' -f2; }
truncated() { grep -c '^event: replay_truncated' "$BUILD/stream-$1.txt"; }

# publish port data [key]: prints "<status> <seconds> <id>"
publish() {
    local body="{\"type\":\"t\",\"data\":$2,\"target\":{\"topics\":[\"t\"]}${3:+,\"id\":\"$3\"}}" out
    out=$(curl -s -m "${MAXTIME:-60}" -o "$BUILD/answer.json" -w '%{http_code} %{time_total}' -X POST \
        -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$1/api/sse/events")
    echo "$out $(grep -o '"id":"[0-9-]*"' "$BUILD/answer.json" 2>/dev/null | cut -d'"' -f4)"
}

stop() { # names...
    local n
    for n in "$@"; do
        [ -n "${PID[$n]:-}" ] || continue
        kill -CONT "${PID[$n]}" 2>/dev/null
        kill -TERM "${PID[$n]}" 2>/dev/null
        wait "${PID[$n]}" 2>/dev/null
        unset "PID[$n]"
    done
}
stop_all() {
    local n
    for n in "${!PID[@]}"; do stop "$n"; done
    [ -n "$REDIS_DIR" ] && rm -rf "$REDIS_DIR"
    REDIS_DIR=""
}
trap 'stop_all; exit 130' INT TERM

# ---------------------------------------------------------------- cases
case_hang() { # [VAR=value] for the hub
    log "hang: redis-server stopped with SIGSTOP for 20 s; hub env: ${*:-defaults}"
    start_redis --save "" --appendonly no && start_hub a "$BASE_PORT" "$@" || { stop_all; return; }
    open_stream a "$BASE_PORT"
    say "before: publish $(publish "$BASE_PORT" '"before"')"
    kill -STOP "${PID[redis]}"
    local t0=$SECONDS
    MAXTIME=40 publish "$BASE_PORT" '"during"' >"$BUILD/during.txt" &
    local pp=$!
    sleep 5
    say "readiness after 5 s: $(ready "$BASE_PORT")"
    sleep 10
    say "readiness after 15 s: $(ready "$BASE_PORT")"
    sleep 5
    kill -CONT "${PID[redis]}"
    say "redis-server continued after $((SECONDS - t0)) s"
    wait "$pp"
    say "the publish sent during the stop answered: $(cat "$BUILD/during.txt") (status, seconds, id)"
    sleep 3
    say "readiness 3 s after SIGCONT: $(ready "$BASE_PORT")"
    say "after: publish $(publish "$BASE_PORT" '"after"')"
    sleep 2
    say "stream got (data, in order): $(datas a | tr '\n' ' ')"
    say "hub log: $(grep -c 'Redis backplane: unavailable' "$BUILD/hub-a.log") 'unavailable' lines; $(grep -o 'unavailable ([^)]*)' "$BUILD/hub-a.log" | head -2 | tr '\n' ' ')"
    stop_all
}

case_rdb_crash() {
    log "rdb-crash: Redis with RDB only; SAVE after 10 events, 10 more, SIGKILL, restart from the snapshot"
    start_redis --save "" --appendonly no && start_hub a "$BASE_PORT" && start_hub b $((BASE_PORT + 1)) || { stop_all; return; }
    open_stream a "$BASE_PORT"
    open_stream b $((BASE_PORT + 1))
    local i first="" fifth="" last=""
    for ((i = 1; i <= 20; i++)); do
        local r
        r=$(publish "$BASE_PORT" "$i" "key-$i")
        [ "$i" = 5 ] && fifth=$(echo "$r" | cut -d' ' -f3)
        [ "$i" = 20 ] && last=$(echo "$r" | cut -d' ' -f3)
        [ "$i" = 10 ] && rcli SAVE >/dev/null
    done
    sleep 1
    say "published 1..20 (snapshot after 10); stream length $(rcli XLEN '{sse}:events'), epoch $(rcli GET '{sse}:epoch')"
    kill -KILL "${PID[redis]}"
    wait "${PID[redis]}" 2>/dev/null
    start_redis --save "" --appendonly no
    say "restarted from the snapshot: stream length $(rcli XLEN '{sse}:events'), epoch $(rcli GET '{sse}:epoch')"
    local r i2
    for ((i2 = 0; i2 < 100; i2++)); do
        r=$(publish "$BASE_PORT" 21)
        [ "${r%% *}" = 202 ] && break
        sleep 0.2
    done
    say "publish 21 after the restart: $r (event 20 was $last)"
    say "publish with key-15 again (its event was lost): $(publish "$BASE_PORT" 15 key-15) -> $(grep -o '"duplicate":true' "$BUILD/answer.json" || echo 'a new event')"
    sleep 2
    say "stream on A (open throughout): $(datas a | tr '\n' ' '); replay_truncated: $(truncated a)"
    say "stream on B (open throughout): $(datas b | tr '\n' ' '); replay_truncated: $(truncated b)"
    open_stream a5 "$BASE_PORT" "$fifth"
    start_hub c $((BASE_PORT + 2)) || { stop_all; return; }
    open_stream c5 $((BASE_PORT + 2)) "$fifth"
    sleep 1
    say "resume after event 5 on A (running before the crash): $(datas a5 | tr '\n' ' '); replay_truncated: $(truncated a5)"
    say "resume after event 5 on C (started after the crash):  $(datas c5 | tr '\n' ' '); replay_truncated: $(truncated c5)"
    stop_all
}

case_lag() {
    log "lag: instance B frozen (SIGSTOP) while A publishes 3,000 events; sse.replay.size=100 (stream keeps ~1,000)"
    start_redis --save "" --appendonly no && start_hub a "$BASE_PORT" SSE_REPLAY_SIZE=100 \
        && start_hub b $((BASE_PORT + 1)) SSE_REPLAY_SIZE=100 || { stop_all; return; }
    open_stream b $((BASE_PORT + 1))
    say "publish 0: $(publish "$BASE_PORT" 0)"
    sleep 1
    kill -STOP "${PID[b]}"
    local body i j
    for ((j = 0; j < 3; j++)); do
        body="["
        for ((i = 1; i <= 1000; i++)); do
            [ "$i" -gt 1 ] && body+=","
            body+="{\"type\":\"t\",\"data\":$((j * 1000 + i)),\"target\":{\"topics\":[\"t\"]}}"
        done
        curl -s -o /dev/null -w "    batch $j: %{http_code} in %{time_total} s\n" -X POST -H 'Content-Type: application/json' \
            -d "$body]" "http://127.0.0.1:$BASE_PORT/api/sse/events/batch"
    done
    say "stream length now $(rcli XLEN '{sse}:events') (first entry $(rcli XRANGE '{sse}:events' - + COUNT 1 | head -1))"
    kill -CONT "${PID[b]}"
    sleep 5
    local got
    got=$(datas b | wc -l)
    say "B's stream after it resumed: $got of 3,001 events; first after 0: $(datas b | sed -n 2p); last: $(datas b | tail -1); replay_truncated: $(truncated b)"
    say "B's log: $(grep -E 'restarted|unavailable|entries behind' "$BUILD/hub-b.log" | head -3 | cut -c1-200)"
    stop_all
}

case_oom() {
    log "oom: Redis at maxmemory with noeviction"
    start_redis --save "" --appendonly no && start_hub a "$BASE_PORT" || { stop_all; return; }
    say "before: publish $(publish "$BASE_PORT" 1)"
    rcli CONFIG SET maxmemory 1 >/dev/null
    rcli CONFIG SET maxmemory-policy noeviction >/dev/null
    say "at maxmemory: publish $(publish "$BASE_PORT" 2); $(cut -c1-200 "$BUILD/answer.json")"
    say "readiness: $(ready "$BASE_PORT")"
    rcli CONFIG SET maxmemory 0 >/dev/null
    sleep 3
    say "maxmemory lifted, 3 s later: readiness $(ready "$BASE_PORT"); publish $(publish "$BASE_PORT" 3)"
    stop_all
}

case_pool() { # [VAR=value] for the hub
    log "pool: 128 concurrent publishes (curl --parallel); hub env: ${*:-defaults (pool of 16, 1,024 waiting)}"
    start_redis --save "" --appendonly no && start_hub a "$BASE_PORT" "$@" || { stop_all; return; }
    local cfg="$BUILD/parallel.cfg" i
    : >"$cfg"
    for ((i = 0; i < 128; i++)); do
        printf 'url = "http://127.0.0.1:%s/api/sse/events"\nrequest = POST\nheader = "Content-Type: application/json"\ndata = "{\\"type\\":\\"t\\",\\"data\\":%d}"\noutput = /dev/null\nwrite-out = "%%{http_code}\\n"\n' \
            "$BASE_PORT" "$i" >>"$cfg"
    done
    local codes
    codes=$(curl -s --parallel --parallel-max 128 --parallel-immediate -K "$cfg" 2>/dev/null | sort | uniq -c | tr '\n' ' ')
    say "answers (count, status): $codes"
    say "readiness right after: $(ready "$BASE_PORT")"
    say "events in the stream: $(rcli XLEN '{sse}:events')"
    say "hub log: $(grep -c 'Redis backplane: unavailable' "$BUILD/hub-a.log") 'unavailable' WARN lines; $(grep -c 'too many Redis commands' "$BUILD/hub-a.log") lines naming the pool"
    stop_all
}

case_sentinel() { # [VAR=value] for the hubs
    log "sentinel: master, replica and one sentinel; the master killed (SIGKILL) while A publishes 20/s; hub env: ${*:-defaults}"
    local rport=$((REDIS_PORT + 10)) sport=$((REDIS_PORT + 11)) dir
    start_redis --save "" --appendonly no || { stop_all; return; }
    dir=$REDIS_DIR
    redis-server --port "$rport" --bind 127.0.0.1 --dir "$dir" --dbfilename replica.rdb --save "" --daemonize no \
        --replicaof 127.0.0.1 "$REDIS_PORT" --logfile "$BUILD/replica.log" </dev/null >/dev/null 2>&1 &
    PID[replica]=$!
    printf 'port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor mymaster 127.0.0.1 %s 1\nsentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 5000\n' \
        "$sport" "$dir" "$REDIS_PORT" >"$dir/sentinel.conf"
    redis-server "$dir/sentinel.conf" --sentinel --logfile "$BUILD/sentinel.log" </dev/null >/dev/null 2>&1 &
    PID[sentinel]=$!
    sleep 2
    local env=(QUARKUS_REDIS_CLIENT_TYPE=sentinel QUARKUS_REDIS_HOSTS="redis://127.0.0.1:$sport" QUARKUS_REDIS_MASTER_NAME=mymaster "$@")
    start_hub a "$BASE_PORT" "${env[@]}" && start_hub b $((BASE_PORT + 1)) "${env[@]}" || { stop_all; return; }
    open_stream b $((BASE_PORT + 1))
    local i r ok=() codes="" t0=$SECONDS killed=""
    for ((i = 1; i <= 300; i++)); do
        r=$(MAXTIME=10 publish "$BASE_PORT" "$i")
        codes+="${r%% *} "
        [ "${r%% *}" = 202 ] && ok+=("$i")
        if [ -z "$killed" ] && [ $((SECONDS - t0)) -ge 4 ]; then
            kill -KILL "${PID[redis]}"
            killed=$SECONDS
            say "master killed at publish $i"
        fi
        [ -n "$killed" ] && [ $((SECONDS - killed)) -ge 10 ] && break
        sleep 0.05
    done
    say "publish answers in order (202 = accepted): $(echo "$codes" | tr ' ' '\n' | grep . | uniq -c | awk '{printf "%s x %s, ", $1, $2}')"
    say "sentinel: $(redis-cli -p "$sport" SENTINEL get-master-addr-by-name mymaster | tr '\n' ' ')"
    sleep 3
    local got
    got=$(datas b | tr '\n' ' ')
    say "accepted: ${#ok[@]}; B's stream got $(datas b | wc -l) events; the same, in order: $([ "$got" = "${ok[*]} " ] && echo yes || echo "no: $got")"
    say "B's log: $(grep -E 'unavailable \(|available again|restarted' "$BUILD/hub-b.log" | cut -c25-200 | head -3 | tr '\n' '|')"
    stop_all
}

for c in $CASES; do
    case $c in
    hang) case_hang; case_hang QUARKUS_REDIS_TCP_READ_IDLE_TIMEOUT=5s ;;
    rdb-crash) case_rdb_crash ;;
    lag) case_lag ;;
    oom) case_oom ;;
    pool) case_pool; case_pool QUARKUS_REDIS_MAX_POOL_SIZE=6 QUARKUS_REDIS_MAX_POOL_WAITING=24 ;;
    sentinel) case_sentinel ;;
    *) echo "unknown case $c" >&2 ;;
    esac
done
