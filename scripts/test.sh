#!/usr/bin/env bash
# Installs what the tests need (the reference haproxy and keepalived from Debian, network
# tools) and runs every test: unit, golden fixtures, examples, and the differential
# compat-tests against the real tools. Run as root or with sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(haproxy keepalived haproxy-doc iproute2 curl psmisc openssl chromium nftables)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "installing: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# (Captured, not piped to head: with pipefail, head closing the pipe would fail the script.)
hv=$(haproxy -v 2>&1); echo "${hv%%$'\n'*}"
kv=$(keepalived -v 2>&1); echo "${kv%%$'\n'*}"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The compat-tests run the rsproxy binary: build it first.
cargo build --workspace
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# cargo's last lines are doc-test summaries ("0 passed"); end with the whole run's count.
passed=$(grep -oE '^test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{ s += $4 } END { print s + 0 }')
failed=$(grep -oE '^test result: [a-zA-Z]+\. [0-9]+ passed; [0-9]+ failed' "$log" | awk '{ s += $6 } END { print s + 0 }')
echo "$passed passed, $failed failed"
exit "$status"
