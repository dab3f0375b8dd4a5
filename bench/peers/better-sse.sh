#!/usr/bin/env bash
# better-sse peer: node + the better-sse package pinned in bench/peers/better-sse/package.json.
#   bench/peers/better-sse.sh PORT
set -euo pipefail
port=${1:?usage: better-sse.sh PORT}
dir=$(cd "$(dirname "$0")/better-sse" && pwd)
if [ ! -d "$dir/node_modules/better-sse" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund >&2)
fi
ulimit -n 20000 2>/dev/null || true
exec node ${BETTER_SSE_NODE_OPTS:-} "$dir/server.js" --port "$port"
