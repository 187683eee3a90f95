#!/usr/bin/env bash
# The cost of layer-7 rules: rsproxy vs HAProxy with 200 ACLs and 100 use_backend rules in
# front of the backend, on the same configuration.
#
#   bench/acl.sh [RUNS] [SECONDS]      (defaults: 5 runs of 5 s per proxy)
#
# Same method as bench/http.sh: the proxy under test runs with one thread pinned to CPU 0;
# the backend (a HAProxy answering with `http-request return`) and wrk share CPU 1; runs
# alternate between the two proxies; medians of requests/s, p50/p99 latency and the proxy's
# CPU time per request (utime+stime from /proc), and the rsproxy/HAProxy ratios.
#
# The rules are the worst case for a rule engine: no use_backend rule matches the request,
# so every one of them is evaluated (each ACL it names, in order) before default_backend.
# ACLs mix the usual kinds: path_beg, hdr(host) -i, hdr_sub(user-agent), url_param, method
# with src, and path_reg. A "rules" row without them ("plain") gives the baseline.
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

BACKEND=19111 FRONT=19110
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

proxy_cfg() { # $1 = with rules (1) or not (0)
    cat <<CFG
global
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend front
    bind 127.0.0.1:$FRONT
CFG
    if [ "$1" = 1 ]; then
        for i in $(seq 1 40); do
            echo "    acl p$i path_beg /app$i/"
            echo "    acl h$i hdr(host) -i site$i.example.com"
            echo "    acl u$i hdr_sub(user-agent) bot$i"
            echo "    acl q$i url_param(id) -m str x$i"
            echo "    acl r$i path_reg ^/api/v$i/[a-z]+\$"
        done
        for i in $(seq 1 40); do
            echo "    use_backend b$((i % 4)) if p$i h$i"
            echo "    use_backend b$((i % 4)) if u$i || q$i"
        done
        for i in $(seq 1 20); do
            echo "    use_backend b$((i % 4)) if r$i METH_POST"
        done
    fi
    cat <<CFG
    default_backend servers
backend servers
    server s1 127.0.0.1:$BACKEND
CFG
    if [ "$1" = 1 ]; then
        for b in 0 1 2 3; do printf 'backend b%s\n    server s1 127.0.0.1:%s\n' "$b" "$BACKEND"; done
    fi
}

. bench/lib.sh  # the scripts run from the repository root (cd above)

run_one() { # $1 = proxy, $2 = rules 0|1; prints "rps p50 p99 cpu_us_per_req"
    proxy_cfg "$2" > "$tmp/proxy.cfg"
    if [ "$1" = haproxy ]; then
        taskset -c 0 haproxy -db -f "$tmp/proxy.cfg" >/dev/null 2>&1 &
    else
        taskset -c 0 "$rsproxy" -db -c "$tmp/proxy.cfg" >/dev/null 2>&1 &
    fi
    local pid=$!
    pids+=("$pid")
    wait_port "$FRONT"
    local t0; t0=$(cpu_ticks "$pid")
    local out; out=$(taskset -c 1 wrk -t1 -c50 -d"${secs}s" --latency \
        -H "Host: www.example.com" -H "User-Agent: Mozilla/5.0 (X11; Linux x86_64)" \
        "http://127.0.0.1:$FRONT/index.html?id=42&lang=en")
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

# Both proxies must accept the generated configuration.
proxy_cfg 1 > "$tmp/check.cfg"
haproxy -c -q -f "$tmp/check.cfg"
"$rsproxy" --check -c "$tmp/check.cfg" >/dev/null
wait_port "$BACKEND"
printf '%-8s %-8s %12s %9s %9s %11s\n' config proxy req/s p50_ms p99_ms cpu_us/req
for rules in 0 1; do
    name=$([ "$rules" = 1 ] && echo rules || echo plain)
    : > "$tmp/haproxy"; : > "$tmp/rsproxy"
    for _ in $(seq "$runs"); do
        for p in haproxy rsproxy; do run_one "$p" "$rules" >> "$tmp/$p"; done
    done
    for p in haproxy rsproxy; do
        for col in 1 2 3 4; do awk -v c=$col '{ print $c }' "$tmp/$p" | median > "$tmp/$p.$col"; done
        printf '%-8s %-8s %12.0f %9.3f %9.3f %11.2f\n' "$name" "$p" "$(cat "$tmp/$p.1")" "$(cat "$tmp/$p.2")" "$(cat "$tmp/$p.3")" "$(cat "$tmp/$p.4")"
    done
    awk -v a="$(cat "$tmp/rsproxy.1")" -v b="$(cat "$tmp/haproxy.1")" -v c="$(cat "$tmp/rsproxy.3")" -v d="$(cat "$tmp/haproxy.3")" \
        -v e="$(cat "$tmp/rsproxy.4")" -v f="$(cat "$tmp/haproxy.4")" \
        'BEGIN { printf "%-8s %-8s %11.2fx %9s %8.2fx %10.2fx\n", "", "ratio", a / b, "", c / d, e / f }'
done
