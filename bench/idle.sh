#!/usr/bin/env bash
# Memory held per idle client connection: rsproxy vs HAProxy, same config.
#
#   bench/idle.sh [CONNECTIONS]     (default 5000)
#
# Opens CONNECTIONS keep-alive client connections to the proxy, sends one request on each
# (so each has been through a full exchange and sits idle, kept alive), and reports the
# proxy's RSS growth divided by the number of connections. Loopback only; everything is
# stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5000}
ulimit -n $((n * 2 + 1000))
cargo build --release -q
rsproxy=$PWD/target/release/rsproxy
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
cat > "$tmp/p.cfg" <<CFG
global
    nbthread 1
    maxconn $((n + 100))
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s
frontend front
    bind 127.0.0.1:19300
    maxconn $((n + 100))
    http-request return status 200 content-type text/plain string "ok"
CFG
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
measure() { # $1 = name, rest = command
    local name=$1; shift
    "$@" >/dev/null 2>&1 &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/19300) 2>/dev/null && break; sleep 0.05; done
    local before; before=$(rss_kib "$pid")
    python3 - "$n" "$pid" "$name" "$before" <<'PY'
import socket, sys, time
n, pid, name, before = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
conns = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", 19300))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    conns.append(s)
for s in conns:
    s.settimeout(10)
    got = b""
    while b"\r\n\r\nok" not in got:
        d = s.recv(4096)
        if not d:
            sys.exit(f"{name}: connection closed early")
        got += d
time.sleep(1)
after = int([l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0])
print(f"{name:8} {n} idle keep-alive connections: RSS {before} -> {after} KiB, {((after - before) * 1024 / n):.0f} bytes per connection")
PY
    kill "$pid"; wait "$pid" 2>/dev/null || true
}
measure haproxy haproxy -db -f "$tmp/p.cfg"
measure rsproxy "$rsproxy" -db -c "$tmp/p.cfg"
