#!/usr/bin/env bash
# Installs what the tests need (the reference haproxy and keepalived from Debian, network
# tools) and runs every test: unit, golden fixtures, examples, and the differential
# compat-tests against the real tools. Run as root or with sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(haproxy keepalived haproxy-doc iproute2 curl psmisc openssl)
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
cargo test --workspace
