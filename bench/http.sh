#!/usr/bin/env bash
# rsproxy vs HAProxy carrying the same traffic with the same configuration.
#
#   bench/http.sh [RUNS] [SECONDS]      (defaults: 5 runs of 5 s per proxy and scenario)
#
# The proxy under test runs with one thread pinned to CPU 0; the backend (a HAProxy answering
# with `http-request return`) and the load generator (wrk) share CPU 1. Runs alternate
# between the two proxies; each row reports medians of requests/s, p50 and p99 latency, the
# proxy's CPU time per request (utime+stime from /proc), and the rsproxy/HAProxy ratios.
# Scenarios: HTTP keep-alive, a new connection per request, 1 MiB responses (keep-alive),
# and mode tcp.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
secs=${2:-5}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
cargo build --release -q
rsproxy=$PWD/target/release/rsproxy
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || true

BACKEND=19101 BACKEND_BIG=19102 FRONT=19100
head -c 1048576 /dev/urandom > "$tmp/1m.bin"
cat > "$tmp/backend.cfg" <<CFG
global
    nbthread 1
    # Large enough for the 1 MiB body of http-request return below.
    tune.bufsize 1114112
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend backend
    bind 127.0.0.1:$BACKEND
    http-request return status 200 content-type text/plain string "hello from the backend"
frontend backend_big
    bind 127.0.0.1:$BACKEND_BIG
    http-request return status 200 content-type application/octet-stream file $tmp/1m.bin
CFG
taskset -c 1 haproxy -db -f "$tmp/backend.cfg" >/dev/null 2>&1 &
pids+=($!)

proxy_cfg() { # $1 = mode, $2 = backend port
    cat <<CFG
global
    nbthread 1
defaults
    mode $1
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend front
    bind 127.0.0.1:$FRONT
    default_backend servers
backend servers
    server s1 127.0.0.1:$2
CFG
}

. bench/lib.sh  # the scripts run from the repository root (cd above)

run_one() { # $1 = proxy (haproxy|rsproxy), $2 = mode, $3 = close|"" (a new connection per request), $4 = backend port; prints "rps p50 p99 cpu_us_per_req"
    proxy_cfg "$2" "$4" > "$tmp/proxy.cfg"
    if [ "$1" = haproxy ]; then
        taskset -c 0 haproxy -db -f "$tmp/proxy.cfg" >/dev/null 2>&1 &
    else
        taskset -c 0 "$rsproxy" -db -c "$tmp/proxy.cfg" >/dev/null 2>&1 &
    fi
    local pid=$!
    pids+=("$pid")
    wait_port "$FRONT"
    local t0; t0=$(cpu_ticks "$pid")
    # shellcheck disable=SC2086
    # wrk drops a header without a space after the colon: pass it as one word.
    local hdr=()
    [ "$3" = close ] && hdr=(-H "Connection: close")
    local out; out=$(taskset -c 1 wrk -t1 -c50 -d"${secs}s" --latency "${hdr[@]}" "http://127.0.0.1:$FRONT/")
    local t1; t1=$(cpu_ticks "$pid")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    local rps p50 p99 reqs hz
    rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
    reqs=$(echo "$out" | awk '/requests in/ { print $1 }')
    p50=$(echo "$out" | awk '$1 == "50%" { print $2 }' | to_ms)
    p99=$(echo "$out" | awk '$1 == "99%" { print $2 }' | to_ms)
    hz=$(getconf CLK_TCK)
    echo "$rps $p50 $p99 $(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$reqs" 'BEGIN { printf "%.2f", t / hz * 1e6 / (n > 0 ? n : 1) }')"
}

wait_port "$BACKEND"
wait_port "$BACKEND_BIG"
printf '%-12s %-8s %12s %9s %9s %11s\n' scenario proxy req/s p50_ms p99_ms cpu_us/req
for scenario in keepalive close 1mib tcp; do
    port=$BACKEND
    case $scenario in
        keepalive) mode=http; extra="" ;;
        close) mode=http; extra=close ;;
        1mib) mode=http; extra=""; port=$BACKEND_BIG ;;
        tcp) mode=tcp; extra="" ;;
    esac
    : > "$tmp/haproxy"; : > "$tmp/rsproxy"
    for _ in $(seq "$runs"); do
        for p in haproxy rsproxy; do run_one "$p" "$mode" "$extra" "$port" >> "$tmp/$p"; done
    done
    for p in haproxy rsproxy; do
        for col in 1 2 3 4; do awk -v c=$col '{ print $c }' "$tmp/$p" | median > "$tmp/$p.$col"; done
        printf '%-12s %-8s %12.0f %9.3f %9.3f %11.2f\n' "$scenario" "$p" "$(cat "$tmp/$p.1")" "$(cat "$tmp/$p.2")" "$(cat "$tmp/$p.3")" "$(cat "$tmp/$p.4")"
    done
    awk -v a="$(cat "$tmp/rsproxy.1")" -v b="$(cat "$tmp/haproxy.1")" -v c="$(cat "$tmp/rsproxy.3")" -v d="$(cat "$tmp/haproxy.3")" \
        -v e="$(cat "$tmp/rsproxy.4")" -v f="$(cat "$tmp/haproxy.4")" \
        'BEGIN { printf "%-12s %-8s %11.2fx %9s %8.2fx %10.2fx\n", "", "ratio", a / b, "", c / d, e / f }'
done
