#!/usr/bin/env bash
# hub peer: the Java service of this repository (target/quarkus-app/quarkus-run.jar, built by the project's
# own Maven build). JVM flags come from HUB_JAVA_OPTS; any SSE_* variable already set in the environment wins
# over the benchmark defaults below.
#   bench/peers/hub.sh PORT
set -euo pipefail
port=${1:?usage: hub.sh PORT}
root=$(cd "$(dirname "$0")/../.." && pwd)
jar="$root/target/quarkus-app/quarkus-run.jar"
[ -f "$jar" ] || { echo "hub.sh: $jar missing: build the service first (./mvnw package -DskipTests)" >&2; exit 1; }
ulimit -n 20000 2>/dev/null || true
export QUARKUS_HTTP_PORT="$port"
export QUARKUS_HTTP_HOST="${QUARKUS_HTTP_HOST:-127.0.0.1}"
export SSE_MAX_CLIENTS="${SSE_MAX_CLIENTS:-30000}"
export SSE_MAX_CONNECTIONS_PER_USER="${SSE_MAX_CONNECTIONS_PER_USER:-100000}"
export SSE_HEARTBEAT_INTERVAL="${SSE_HEARTBEAT_INTERVAL:-30s}"
export SSE_SHUTDOWN_DRAIN="${SSE_SHUTDOWN_DRAIN:-0s}"
# The load driver opens thousands of streams and publishes in bursts from loopback, with no token.
export SSE_AUTH_ENABLED="${SSE_AUTH_ENABLED:-false}"
export SSE_CONNECT_RATE="${SSE_CONNECT_RATE:-0}"
export SSE_PUBLISH_RATE="${SSE_PUBLISH_RATE:-0}"
# One event-loop thread, like every other server here (nginx with one worker, node, the C server): the load
# driver runs on the machine's other core. Production keeps Quarkus's default (two per core).
export QUARKUS_VERTX_EVENT_LOOPS_POOL_SIZE="${QUARKUS_VERTX_EVENT_LOOPS_POOL_SIZE:-1}"
# Container JVM flags measured in docs/performance.md: Parallel GC (no G1 refinement threads or barriers on
# the write path), a small young generation and a heap that grows in small steps (less resident memory per
# idle stream).
HUB_JAVA_OPTS="${HUB_JAVA_OPTS--XX:+UseParallelGC -Xms32m -Xmn16m -XX:MinHeapFreeRatio=5 -XX:MaxHeapFreeRatio=10}"
cd "$root"
# shellcheck disable=SC2086
exec java $HUB_JAVA_OPTS -jar "$jar"
