#!/usr/bin/env bash
# Nchan peer: nginx + libnginx-mod-nchan with a generated config, in the foreground (daemon off).
#   bench/peers/nchan.sh PORT [WORKERS]      WORKERS: 1 (default) or auto
# Subscribe: GET /sub/<channel> (EventSource)   Publish: POST /pub/<channel> (body = the event's data)
# Memory store only (no redis). Config and logs go to a temp dir printed on stderr.
set -euo pipefail
port=${1:?usage: nchan.sh PORT [WORKERS]}
workers=${2:-1}
ulimit -n 20000 2>/dev/null || true
mod=/usr/lib/nginx/modules/ngx_nchan_module.so
[ -f "$mod" ] || { echo "nchan.sh: $mod missing (apt-get install nginx libnginx-mod-nchan)" >&2; exit 1; }
dir=$(mktemp -d /tmp/sse-bench-nchan.XXXXXX)
mkdir -p "$dir/logs" "$dir/tmp"
cat > "$dir/nginx.conf" <<CONF
load_module $mod;
worker_processes $workers;
worker_rlimit_nofile 20000;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events {
    worker_connections 20000;
    multi_accept on;
}
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    keepalive_timeout 120s;
    keepalive_requests 1000000;
    # shared memory for messages and channels (memory store)
    nchan_shared_memory_size 256M;
    server {
        listen 127.0.0.1:$port;
        location ~ ^/sub/([A-Za-z0-9_]+)\$ {
            nchan_subscriber eventsource;
            nchan_channel_id \$1;
            nchan_subscriber_first_message newest;
        }
        location ~ ^/pub/([A-Za-z0-9_]+)\$ {
            nchan_publisher;
            nchan_channel_id \$1;
            nchan_message_buffer_length 16;
            nchan_message_timeout 60s;
        }
        location = /health { return 200 "ok\n"; }
    }
}
CONF
echo "nchan.sh: config $dir/nginx.conf" >&2
exec nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;'
