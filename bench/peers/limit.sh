#!/usr/bin/env bash
# limit peer: the minimal C epoll SSE server (bench/peers/limit.c), built into bench/build/.
#   bench/peers/limit.sh PORT
set -euo pipefail
port=${1:?usage: limit.sh PORT}
here=$(cd "$(dirname "$0")" && pwd)
bin="$here/../build/limit"
if [ ! -x "$bin" ] || [ "$here/limit.c" -nt "$bin" ]; then
    mkdir -p "$here/../build"
    gcc -O2 -Wall -Wextra -o "$bin" "$here/limit.c"
fi
ulimit -n 20000 2>/dev/null || true
exec "$bin" --port "$port"
