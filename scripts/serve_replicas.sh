#!/usr/bin/env bash
# Several studio processes behind nginx, sharing one library (docs/deploy.md).
#
#   scripts/serve_replicas.sh N [PORT] [-- app.py options...]
#
# Starts N `app.py` processes on 127.0.0.1:PORT+1 .. PORT+N (each with its own Gradio upload/cache folder, all with
# the same --data-dir and, when CADENZA_DATABASE_URL is set, the same database) and nginx on 127.0.0.1:PORT (default
# 7860) in front of them. nginx gives each browser a cookie (cadenza_route) and sends every request that carries it to
# the same process: a page's queue and its session live in one process. Ctrl-C stops everything.
#
# Environment: CADENZA_DATABASE_URL (e.g. postgresql://cadenza@127.0.0.1/cadenza; default: SQLite in the data
# folder, which several processes on one machine can share), CADENZA_DATA_DIR (default: the studio's own default),
# PYTHON (default .venv/bin/python), NGINX (default nginx), CADENZA_RUN_DIR (where the nginx config, pids and logs go;
# default a new temporary folder).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

replicas="${1:-2}"
port="${2:-7860}"
shift $(( $# >= 2 ? 2 : $# ))
[[ "${1:-}" == "--" ]] && shift
if ! [[ "$replicas" =~ ^[1-9][0-9]*$ && "$port" =~ ^[0-9]+$ ]]; then
    echo "usage: scripts/serve_replicas.sh N [PORT] [-- app.py options...]" >&2
    exit 2
fi
python="${PYTHON:-.venv/bin/python}"
nginx_bin="${NGINX:-nginx}"
command -v "$nginx_bin" >/dev/null || { echo "nginx is not installed (Debian: apt-get install nginx-light)" >&2; exit 2; }
run_dir="${CADENZA_RUN_DIR:-$(mktemp -d -t cadenza_replicas.XXXXXX)}"
mkdir -p "$run_dir"

app_args=("$@")
[[ -n "${CADENZA_DATA_DIR:-}" ]] && app_args+=(--data-dir "$CADENZA_DATA_DIR")

pids=()
stop() {
    trap - INT TERM EXIT
    [[ -f "$run_dir/nginx.pid" ]] && kill "$(cat "$run_dir/nginx.pid")" 2>/dev/null || true
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop INT TERM EXIT

servers=""
for i in $(seq 1 "$replicas"); do
    replica_port=$(( port + i ))
    GRADIO_TEMP_DIR="$run_dir/gradio_$i" "$python" app.py --port "$replica_port" "${app_args[@]}" \
        > "$run_dir/replica_$i.log" 2>&1 &
    pids+=("$!")
    echo "$!" > "$run_dir/replica_$i.pid"
    servers+="        server 127.0.0.1:$replica_port;"$'\n'
done

cat > "$run_dir/nginx.conf" <<EOF
worker_processes 1;
pid $run_dir/nginx.pid;
error_log $run_dir/nginx_error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $run_dir/nginx_body;
    proxy_temp_path $run_dir/nginx_proxy;
    fastcgi_temp_path $run_dir/nginx_fastcgi;
    uwsgi_temp_path $run_dir/nginx_uwsgi;
    scgi_temp_path $run_dir/nginx_scgi;
    # A browser without the route cookie gets a new random route; with it, the same one every time.
    map \$cookie_cadenza_route \$cadenza_route {
        ""      \$request_id;
        default \$cookie_cadenza_route;
    }
    map \$http_upgrade \$connection_upgrade {
        default upgrade;
        ""      close;
    }
    upstream cadenza {
        hash \$cadenza_route consistent;
$servers    }
    server {
        listen 127.0.0.1:$port;
        client_max_body_size 64m;
        location / {
            proxy_pass http://cadenza;
            proxy_http_version 1.1;
            proxy_set_header Host \$host;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Forwarded-Host \$host:\$server_port;
            proxy_buffering off;        # the queue's events are a stream: pass them on as they come
            proxy_read_timeout 3600s;
            add_header Set-Cookie "cadenza_route=\$cadenza_route; Path=/; HttpOnly; SameSite=Lax" always;
        }
    }
}
EOF

# Each replica is up when its port answers (models loaded, warmed up).
for i in $(seq 1 "$replicas"); do
    for _ in $(seq 1 600); do
        kill -0 "${pids[$((i - 1))]}" 2>/dev/null || { echo "replica $i stopped: see $run_dir/replica_$i.log" >&2; exit 1; }
        "$python" -c "import socket,sys; socket.create_connection(('127.0.0.1', $(( port + i ))), 1)" 2>/dev/null && break
        sleep 0.5
    done
done
"$nginx_bin" -c "$run_dir/nginx.conf" -p "$run_dir" -g "daemon on;"
echo "Cadenza: $replicas replicas behind nginx on http://127.0.0.1:$port/ (logs and pids in $run_dir)"
wait "${pids[@]}"
