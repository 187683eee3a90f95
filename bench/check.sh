#!/usr/bin/env bash
# `rsproxy --check` vs `haproxy -c` on generated configurations of growing size.
#
#   bench/check.sh [RUNS]        (default 7 runs per tool and size)
#
# Each size N has N/10 backends of 10 servers, one `use_backend ... if { path_beg }` rule
# per backend in one frontend. Runs alternate between the two tools; each row reports the
# median wall time of each, the ratio rsproxy/haproxy, and microseconds per server (linear
# growth shows as a flat column). Both run pinned to CPU 0 when taskset exists.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
cargo build --release -q
rsproxy=$PWD/target/release/rsproxy
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)

gen() { # $1 = servers
    awk -v n="$1" 'BEGIN {
        print "global\n    maxconn 100000\n    log 127.0.0.1 local0\n"
        print "defaults\n    mode http\n    log global\n    option httplog\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n"
        print "frontend fe\n    bind 127.0.0.1:18080"
        nb = n / 10
        for (b = 0; b < nb; b++) printf "    use_backend be%d if { path_beg /app%d/ }\n", b, b
        print "    default_backend be0\n"
        for (b = 0; b < nb; b++) {
            printf "backend be%d\n    balance roundrobin\n    option httpchk GET /health\n", b
            for (s = 0; s < 10; s++) {
                i = b * 10 + s
                printf "    server s%d 10.%d.%d.%d:8080 check inter 2s rise 2 fall 3 weight 10\n", s, int(i / 65536) % 256, int(i / 256) % 256, i % 256
            }
            print ""
        }
    }' > "$tmp/bench-$1.cfg"
}

now_ns() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

printf '%-8s %-12s %-12s %-8s %-14s %-14s\n' servers haproxy_ms rsproxy_ms ratio haproxy_us/srv rsproxy_us/srv
for n in 5000 10000 20000 40000; do
    gen "$n"
    cfg="$tmp/bench-$n.cfg"
    "$rsproxy" --check -c "$cfg" >/dev/null 2>&1 || { echo "rsproxy rejects $cfg:"; "$rsproxy" --check -c "$cfg" 2>&1 | head; exit 1; }
    haproxy -c -f "$cfg" >/dev/null 2>&1 || { echo "haproxy rejects $cfg"; exit 1; }
    : > "$tmp/h"; : > "$tmp/r"
    for _ in $(seq "$runs"); do
        t0=$(now_ns); "${pin[@]}" haproxy -c -q -f "$cfg" >/dev/null 2>&1; t1=$(now_ns)
        echo $(( (t1 - t0) / 1000 )) >> "$tmp/h"
        t0=$(now_ns); "${pin[@]}" "$rsproxy" --check -c "$cfg" >/dev/null 2>&1; t1=$(now_ns)
        echo $(( (t1 - t0) / 1000 )) >> "$tmp/r"
    done
    h=$(median < "$tmp/h"); r=$(median < "$tmp/r")
    awk -v n="$n" -v h="$h" -v r="$r" 'BEGIN { printf "%-8d %-12.1f %-12.1f %-8.3f %-14.2f %-14.2f\n", n, h / 1000, r / 1000, r / h, h / n, r / n }'
done
