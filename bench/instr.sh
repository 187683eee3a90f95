#!/usr/bin/env bash
# Instructions per keep-alive HTTP request, rsproxy vs HAProxy, under callgrind.
#
#   bench/instr.sh [SECONDS] [CONNECTIONS]     (defaults: 8 s, 10 connections)
#
# Unlike times, instruction counts repeat from run to run on a shared machine. Each proxy runs
# alone under `valgrind --tool=callgrind` (one thread, CPU 0) with the same configuration in
# front of a HAProxy backend answering with `http-request return` (CPU 1, with wrk); it is
# stopped with SIGUSR1 (a graceful stop for both) so callgrind writes its totals. The figure
# is all instructions the proxy ran (start-up included, a small share) over wrk's requests.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-8}
conns=${2:-10}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 1; }
cargo build --release -q
rsproxy=$PWD/target/release/rsproxy
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

BACKEND=19401 FRONT=19400
cat > "$tmp/backend.cfg" <<CFG
global
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend backend
    bind 127.0.0.1:$BACKEND
    http-request return status 200 content-type text/plain string "hello from the backend"
CFG
cat > "$tmp/proxy.cfg" <<CFG
global
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend front
    bind 127.0.0.1:$FRONT
    default_backend servers
backend servers
    server s1 127.0.0.1:$BACKEND
CFG
wait_port() { for _ in $(seq 400); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
taskset -c 1 haproxy -db -f "$tmp/backend.cfg" >/dev/null 2>&1 &
pids+=($!)
wait_port "$BACKEND"

for p in haproxy rsproxy; do
    if [ "$p" = haproxy ]; then cmd=(haproxy -db -f "$tmp/proxy.cfg"); else cmd=("$rsproxy" -db -c "$tmp/proxy.cfg"); fi
    taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$tmp/$p.out" "${cmd[@]}" >/dev/null 2>&1 &
    pid=$!
    pids+=("$pid")
    wait_port "$FRONT"
    reqs=$(taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" "http://127.0.0.1:$FRONT/" | awk '/requests in/ { print $1 }')
    kill -USR1 "$pid"; wait "$pid" 2>/dev/null || true
    ir=$(awk '/^summary:/ { print $2 }' "$tmp/$p.out")
    awk -v p="$p" -v ir="$ir" -v n="$reqs" 'BEGIN { printf "%-8s %9d requests %14d instructions %8.0f per request\n", p, n, ir, ir / n }'
done
