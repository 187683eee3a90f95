#!/usr/bin/env bash
# rsproxy vs HAProxy terminating TLS with the same configuration and certificates.
#
#   bench/tls.sh [RUNS] [SECONDS]      (defaults: 5 runs of 5 s per proxy and scenario)
#
# Same method as bench/http.sh: the proxy under test runs with one thread pinned to CPU 0;
# the backend (a HAProxy answering with `http-request return`, plain HTTP) and wrk share
# CPU 1. Runs alternate between the two proxies; each row reports medians of requests/s, p50
# and p99 latency, the proxy's CPU time per request, and the rsproxy/HAProxy ratios.
# Scenarios: HTTPS keep-alive (ECDSA P-256 certificate); a new TLS connection per request
# (wrk with `Connection: close`), which wrk resumes (it keeps its session across reconnects),
# with the proxies' default session cache and tickets; and a full handshake per request with
# an ECDSA P-256 and with an RSA-2048 certificate: resumption off in both proxies
# (`tune.ssl.cachesize 0` and `ssl-default-bind-options no-tls-tickets`). TLS 1.3 is what
# wrk (OpenSSL) and both proxies agree on.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
secs=${2:-5}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
command -v openssl >/dev/null && command -v curl >/dev/null || { echo "needs openssl and curl"; exit 1; }
cargo build --release -q
rsproxy=$PWD/target/release/rsproxy
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || true

# Ports of their own: another bench script may run on the machine at the same time.
BACKEND=19511 FRONT=19510
openssl req -x509 -nodes -days 2 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$tmp/ecdsa.key" -out "$tmp/ecdsa.crt" -subj /CN=bench.test 2>/dev/null
openssl req -x509 -nodes -days 2 -newkey rsa:2048 \
    -keyout "$tmp/rsa.key" -out "$tmp/rsa.crt" -subj /CN=bench.test 2>/dev/null
cat "$tmp/ecdsa.crt" "$tmp/ecdsa.key" > "$tmp/ecdsa.pem"
cat "$tmp/rsa.crt" "$tmp/rsa.key" > "$tmp/rsa.pem"

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
taskset -c 1 haproxy -db -f "$tmp/backend.cfg" >/dev/null 2>&1 &
pids+=($!)

proxy_cfg() { # $1 = certificate file, $2 = more global lines
    cat <<CFG
global
    nbthread 1
$2
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend front
    bind 127.0.0.1:$FRONT ssl crt $1
    default_backend servers
backend servers
    server s1 127.0.0.1:$BACKEND
CFG
}

. bench/lib.sh  # the scripts run from the repository root (cd above)

run_one() { # $1 = proxy (haproxy|rsproxy), $2 = certificate, $3 = keepalive|close, $4 = global lines; prints "rps p50 p99 cpu_us_per_req"
    proxy_cfg "$2" "$4" > "$tmp/proxy.cfg"
    if [ "$1" = haproxy ]; then
        taskset -c 0 haproxy -db -f "$tmp/proxy.cfg" >/dev/null 2>&1 &
    else
        taskset -c 0 "$rsproxy" -db -c "$tmp/proxy.cfg" >/dev/null 2>&1 &
    fi
    local pid=$!
    pids+=("$pid")
    wait_port "$FRONT"
    # The proxy under test answers over TLS (not something else on the port).
    kill -0 "$pid" || { echo "$1 did not start" >&2; exit 1; }
    curl -sk --max-time 5 "https://127.0.0.1:$FRONT/" | grep -q "hello from the backend" \
        || { echo "$1 does not answer over TLS on $FRONT" >&2; exit 1; }
    local t0; t0=$(cpu_ticks "$pid")
    # wrk drops a header written without a space after the colon (`-H Connection:close` sends
    # nothing, and every connection stays open): the space matters.
    local extra=()
    [ "$3" = close ] && extra=(-H "Connection: close")
    local out; out=$(taskset -c 1 wrk -t1 -c50 -d"${secs}s" --latency "${extra[@]}" "https://127.0.0.1:$FRONT/")
    local t1; t1=$(cpu_ticks "$pid")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    local rps p50 p99 reqs hz errors
    rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
    reqs=$(echo "$out" | awk '/requests in/ { print $1 }')
    errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ { print }')
    [ -z "$errors" ] || echo "$1 $2: $errors" >&2
    p50=$(echo "$out" | awk '$1 == "50%" { print $2 }' | to_ms)
    p99=$(echo "$out" | awk '$1 == "99%" { print $2 }' | to_ms)
    hz=$(getconf CLK_TCK)
    echo "$rps $p50 $p99 $(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$reqs" 'BEGIN { printf "%.2f", t / hz * 1e6 / (n > 0 ? n : 1) }')"
}

wait_port "$BACKEND"
printf '%-16s %-8s %12s %9s %9s %11s\n' scenario proxy req/s p50_ms p99_ms cpu_us/req
no_resumption=$'    tune.ssl.cachesize 0\n    ssl-default-bind-options no-tls-tickets'
for scenario in keepalive-ecdsa resumed-ecdsa full-ecdsa full-rsa2048; do
    glob=""
    case $scenario in
        keepalive-ecdsa) cert=$tmp/ecdsa.pem; extra=keepalive ;;
        resumed-ecdsa) cert=$tmp/ecdsa.pem; extra=close ;;
        full-ecdsa) cert=$tmp/ecdsa.pem; extra=close; glob=$no_resumption ;;
        full-rsa2048) cert=$tmp/rsa.pem; extra=close; glob=$no_resumption ;;
    esac
    : > "$tmp/haproxy"; : > "$tmp/rsproxy"
    for _ in $(seq "$runs"); do
        for p in haproxy rsproxy; do run_one "$p" "$cert" "$extra" "$glob" >> "$tmp/$p"; done
    done
    for p in haproxy rsproxy; do
        for col in 1 2 3 4; do awk -v c=$col '{ print $c }' "$tmp/$p" | median > "$tmp/$p.$col"; done
        printf '%-16s %-8s %12.0f %9.3f %9.3f %11.2f\n' "$scenario" "$p" "$(cat "$tmp/$p.1")" "$(cat "$tmp/$p.2")" "$(cat "$tmp/$p.3")" "$(cat "$tmp/$p.4")"
    done
    awk -v a="$(cat "$tmp/rsproxy.1")" -v b="$(cat "$tmp/haproxy.1")" -v c="$(cat "$tmp/rsproxy.3")" -v d="$(cat "$tmp/haproxy.3")" \
        -v e="$(cat "$tmp/rsproxy.4")" -v f="$(cat "$tmp/haproxy.4")" \
        'BEGIN { printf "%-16s %-8s %11.2fx %9s %8.2fx %10.2fx\n", "", "ratio", a / b, "", c / d, e / f }'
done
