#!/usr/bin/env bash
# Capture the real HAProxy's load-balancing decisions into compat-tests/data/balance/NAME.txt.
#
# Each scenario starts a fresh haproxy whose servers are `listen` sections of the same
# config answering their own name (`http-request return ... string "s1"`), so no other
# server is needed. The data files are read by the unit tests in src/balance/.
#
# File format: `#` lines describe the scenario (balance lines, servers and weights, how the
# requests were sent); then one line per request:
#   seq    : SERVER                       (N requests to "/", new connection each)
#   uri    : URI<TAB>SERVER               (request target as sent)
#   hdr    : VALUE<TAB>SERVER             (header value; "-" = header absent)
#   src    : ADDRESS<TAB>SERVER           (client source address)
#   held   : OP<TAB>SERVER|-              (tcp mode; "open" holds a new connection open and
#                                          records where it went; "close K" closes the Kth
#                                          opened connection, 1-based)
#
# Usage: compat-tests/capture-balance.sh [SCENARIO...]   (default: all)
# Env: BASE_PORT (default 28100). Needs haproxy (2.6) and curl. Runs as any user.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/data/balance"
BASE_PORT=${BASE_PORT:-28100}
FE_PORT=$BASE_PORT
WORK=$(mktemp -d)
HAPROXY_PID=
DEADLINE=$((SECONDS + 600)) # the whole capture must end within 10 minutes

cleanup() {
	if [[ -n $HAPROXY_PID ]]; then
		kill "$HAPROXY_PID" 2>/dev/null || true
		wait "$HAPROXY_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

mkdir -p "$OUT"

check_deadline() {
	if ((SECONDS > DEADLINE)); then
		echo "capture-balance: out of time" >&2
		exit 1
	fi
}

# write_config MODE BACKEND_LINES SERVER_LINES
# SERVER_LINES: one "NAME [options]" per line; NAME is also the listen section's answer.
write_config() {
	local mode=$1 backend=$2 servers=$3 i=0 name opts
	{
		echo "global"
		echo "    nbthread 1"
		echo "defaults"
		echo "    mode http"
		echo "    timeout connect 2s"
		echo "    timeout client 10s"
		echo "    timeout server 10s"
		echo "frontend fe"
		echo "    mode $mode"
		echo "    bind 127.0.0.1:$FE_PORT"
		echo "    bind [::1]:$FE_PORT"
		echo "    default_backend be"
		echo "backend be"
		echo "    mode $mode"
		printf '%s\n' "$backend" | sed 's/^/    /'
		while read -r name opts; do
			[[ -z $name ]] && continue
			i=$((i + 1))
			echo "    server $name 127.0.0.1:$((BASE_PORT + i)) $opts"
		done <<<"$servers"
		i=0
		while read -r name opts; do
			[[ -z $name ]] && continue
			i=$((i + 1))
			echo "listen $name"
			echo "    bind 127.0.0.1:$((BASE_PORT + i))"
			echo "    http-request return status 200 content-type text/plain string \"$name\""
		done <<<"$servers"
	} >"$WORK/haproxy.cfg"
}

start_haproxy() {
	haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
	HAPROXY_PID=$!
	local n
	for n in $(seq 1 50); do
		# probe a server's port, not the frontend: a probe through the frontend would be
		# balanced and change the state under test
		if (exec 3<>"/dev/tcp/127.0.0.1/$((BASE_PORT + 1))") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "capture-balance: haproxy did not start" >&2
	cat "$WORK/haproxy.log" >&2
	exit 1
}

stop_haproxy() {
	kill "$HAPROXY_PID" 2>/dev/null || true
	wait "$HAPROXY_PID" 2>/dev/null || true
	HAPROXY_PID=
}

# get [curl args...] -> the answering server's name ("?" when there was no answer)
get() {
	curl -sf -m 3 "$@" || echo "?"
}

# held connections (tcp mode): fds in HELD[k]
# open_held sets ANSWER (it must not run in a subshell, or the connection would close)
declare -a HELD
ANSWER=
open_held() {
	local fd line len=0 body
	exec {fd}<>"/dev/tcp/127.0.0.1/$FE_PORT"
	HELD+=("$fd")
	printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >&"$fd"
	while IFS= read -r -t 3 line <&"$fd"; do
		line=${line%$'\r'}
		[[ -z $line ]] && break
		if [[ ${line,,} == content-length:* ]]; then len=${line#*: }; fi
	done
	IFS= read -r -t 3 -N "$len" body <&"$fd" || true
	ANSWER=${body:-?}
}

# scenario NAME KIND MODE BACKEND_LINES SERVER_LINES ARGS...
scenario() {
	local name=$1 kind=$2 mode=$3 backend=$4 servers=$5
	shift 5
	if ((${#ONLY[@]})) && [[ " ${ONLY[*]} " != *" $name "* ]]; then return 0; fi
	check_deadline
	write_config "$mode" "$backend" "$servers"
	start_haproxy
	local file="$OUT/$name.txt" arg i
	{
		echo "# scenario: $name ($kind), haproxy $(haproxy -v | head -1 | awk '{print $3}')"
		printf '%s\n' "$backend" | sed 's/^/# /'
		printf '%s\n' "$servers" | sed '/^$/d; s/^/# server /'
		case $kind in
		seq) echo "# $1 sequential HTTP/1.1 requests to /, a new curl connection each" ;;
		uri) echo "# one request per URI (curl --request-target, Host: the URI's authority or 127.0.0.1), a new connection each" ;;
		hdr) echo "# one request per value of header $1 (- = absent), a new connection each" ;;
		src) echo "# one request per client address (curl --interface), a new connection each" ;;
		held) echo "# tcp mode; connections held open (HTTP/1.1 keep-alive) until closed" ;;
		esac
		case $kind in
		seq)
			for i in $(seq 1 "$1"); do get "http://127.0.0.1:$FE_PORT/"; echo; done
			;;
		uri)
			local host
			for arg in "$@"; do
				# an absolute URI needs a Host header naming the same authority
				host=127.0.0.1
				if [[ $arg == http://* ]]; then host=${arg#http://}; host=${host%%/*}; fi
				printf '%s\t%s\n' "$arg" "$(get -H "Host: $host" --request-target "$arg" "http://127.0.0.1:$FE_PORT/")"
			done
			;;
		hdr)
			local hname=$1
			shift
			for arg in "$@"; do
				if [[ $arg == - ]]; then
					printf '%s\t%s\n' "$arg" "$(get "http://127.0.0.1:$FE_PORT/")"
				else
					printf '%s\t%s\n' "$arg" "$(get -H "$hname: $arg" "http://127.0.0.1:$FE_PORT/")"
				fi
			done
			;;
		src)
			for arg in "$@"; do
				if [[ $arg == *:* ]]; then
					printf '%s\t%s\n' "$arg" "$(get "http://[::1]:$FE_PORT/")"
				else
					printf '%s\t%s\n' "$arg" "$(get --interface "$arg" "http://127.0.0.1:$FE_PORT/")"
				fi
			done
			;;
		held)
			HELD=()
			for arg in "$@"; do
				if [[ $arg == open ]]; then
					open_held
					printf 'open\t%s\n' "$ANSWER"
				else
					local k=${arg#close } fd
					fd=${HELD[k - 1]}
					exec {fd}>&-
					sleep 0.2
					printf 'close %s\t-\n' "$k"
				fi
			done
			local fd
			for fd in "${HELD[@]}"; do exec {fd}>&- 2>/dev/null || true; done
			;;
		esac
	} >"$file.tmp"
	stop_haproxy
	mv "$file.tmp" "$file"
	echo "captured $name"
}

ONLY=("$@")

# ---- round robin ----------------------------------------------------------------------
scenario rr-1-1 seq http "balance roundrobin" $'s1 weight 1\ns2 weight 1' 12
scenario rr-3-1 seq http "balance roundrobin" $'s1 weight 3\ns2 weight 1' 16
scenario rr-2-3 seq http "balance roundrobin" $'s1 weight 2\ns2 weight 3' 20
scenario rr-1-1-2 seq http "balance roundrobin" $'s1 weight 1\ns2 weight 1\ns3 weight 2' 16
scenario rr-w0 seq http "balance roundrobin" $'s1 weight 1\ns2 weight 0\ns3 weight 2' 12
scenario rr-5-3-2 seq http "balance roundrobin" $'s1 weight 5\ns2 weight 3\ns3 weight 2' 40
scenario rr-10-7-1-1 seq http "balance roundrobin" $'s1 weight 10\ns2 weight 7\ns3 weight 1\ns4 weight 1' 57
scenario rr-default seq http "balance roundrobin" $'s1\ns2\ns3' 9
scenario rr-256-1 seq http "balance roundrobin" $'s1 weight 256\ns2 weight 1\ns3 weight 100' 400
scenario rr-backup seq http "balance roundrobin" $'s1 weight 0\nb1 backup weight 2\nb2 backup weight 3' 8
scenario rr-allbackups seq http $'balance roundrobin\noption allbackups' $'s1 weight 0\nb1 backup weight 2\nb2 backup weight 3' 15
scenario rr-backup-unused seq http "balance roundrobin" $'s1 weight 1\nb1 backup weight 2\ns2 weight 1' 6
scenario rr-held-maxconn held tcp "balance roundrobin" $'s1 weight 1 maxconn 1\ns2 weight 1 maxconn 2\ns3 weight 2' \
	open open open open open open "close 1" open open "close 2" open open
# ---- static-rr --------------------------------------------------------------------------
scenario srr-1-1 seq http "balance static-rr" $'s1 weight 1\ns2 weight 1' 8
scenario srr-3-1 seq http "balance static-rr" $'s1 weight 3\ns2 weight 1' 16
scenario srr-2-3 seq http "balance static-rr" $'s1 weight 2\ns2 weight 3' 20
scenario srr-1-1-2 seq http "balance static-rr" $'s1 weight 1\ns2 weight 1\ns3 weight 2' 16
scenario srr-w0 seq http "balance static-rr" $'s1 weight 1\ns2 weight 0\ns3 weight 2' 12
scenario srr-5-3-2 seq http "balance static-rr" $'s1 weight 5\ns2 weight 3\ns3 weight 2' 40
scenario srr-4-6 seq http "balance static-rr" $'s1 weight 4\ns2 weight 6' 10
scenario srr-backup seq http "balance static-rr" $'s1 weight 0\nb1 backup weight 2\nb2 backup weight 3' 10
scenario srr-allbackups seq http $'balance static-rr\noption allbackups' $'s1 weight 0\nb1 backup weight 2\nb2 backup weight 3' 10
scenario srr-held-maxconn held tcp "balance static-rr" $'s1 weight 1 maxconn 1\ns2 weight 1 maxconn 2\ns3 weight 2' \
	open open open open open open "close 1" open open "close 2" open open
# ---- leastconn, first ---------------------------------------------------------------------
scenario lc-seq seq http "balance leastconn" $'s1 weight 1\ns2 weight 3\ns3 weight 2' 12
scenario lc-held held tcp "balance leastconn" $'s1 weight 1\ns2 weight 3' \
	open open open open open open open open open
scenario lc-held-3 held tcp "balance leastconn" $'s1 weight 1\ns2 weight 1\ns3 weight 2' \
	open open open open open "close 1" open "close 2" "close 3" open open open "close 6" open open
scenario first-held held tcp "balance first" $'s1 maxconn 2\ns2 maxconn 1\ns3 weight 0 maxconn 5\ns4 maxconn 2' \
	open open open open "close 1" open open open
scenario first-seq seq http "balance first" $'s1 maxconn 2\ns2 maxconn 1' 4
# ---- source -----------------------------------------------------------------------------
SRCS=(127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6 127.0.0.7 127.0.0.8
	127.0.0.9 127.0.0.10 127.0.0.11 127.0.0.12 127.0.1.1 127.1.2.3 127.200.100.50
	127.255.255.254 ::1)
scenario src-map src http "balance source" $'s1\ns2\ns3' "${SRCS[@]}"
scenario src-map-weights src http "balance source" $'s1 weight 1\ns2 weight 2\ns3 weight 4' "${SRCS[@]}"
scenario src-map-avalanche src http $'balance source\nhash-type map-based sdbm avalanche' $'s1\ns2\ns3' "${SRCS[@]}"
scenario src-consistent src http $'balance source\nhash-type consistent' $'s1\ns2\ns3 weight 2' "${SRCS[@]}"
scenario src-consistent-sdbm src http $'balance source\nhash-type consistent sdbm' $'s1\ns2\ns3 weight 2' "${SRCS[@]}"
scenario src-consistent-ids src http $'balance source\nhash-type consistent' $'s1 id 7\ns2 id 3\ns3 weight 2' "${SRCS[@]}"
# ---- uri ----------------------------------------------------------------------------------
URIS=(/ /a /b /c /index.html /a/b/c /a/b/d /a/x/y /img/logo.png /img/logo.png?v=2
	'/search?q=x' '/search?q=y' /a/b/c/d/e/f /Z /zzzzzzzzzzzzzzzzzzzzzzzzzzzzz /0123456789
	'http://example.com/a/b?x=1' 'http://example.com/a/b?x=2' 'http://other.org/a/b?x=1')
FIVE=$'s1\ns2\ns3\ns4\ns5'
scenario uri-sdbm uri http "balance uri" "$FIVE" "${URIS[@]}"
scenario uri-weights uri http "balance uri" $'s1 weight 3\ns2 weight 1\ns3 weight 2' "${URIS[@]}"
scenario uri-djb2 uri http $'balance uri\nhash-type map-based djb2' "$FIVE" "${URIS[@]}"
scenario uri-wt6 uri http $'balance uri\nhash-type map-based wt6' "$FIVE" "${URIS[@]}"
scenario uri-crc32 uri http $'balance uri\nhash-type map-based crc32' "$FIVE" "${URIS[@]}"
scenario uri-sdbm-avalanche uri http $'balance uri\nhash-type map-based sdbm avalanche' "$FIVE" "${URIS[@]}"
scenario uri-consistent uri http $'balance uri\nhash-type consistent' "$FIVE" "${URIS[@]}"
scenario uri-consistent-djb2 uri http $'balance uri\nhash-type consistent djb2' $'s1\ns2 weight 3\ns3' "${URIS[@]}"
scenario uri-consistent-wt6-avalanche uri http $'balance uri\nhash-type consistent wt6 avalanche' "$FIVE" "${URIS[@]}"
scenario uri-consistent-crc32 uri http $'balance uri\nhash-type consistent crc32' "$FIVE" "${URIS[@]}"
scenario uri-whole uri http "balance uri whole" "$FIVE" "${URIS[@]}"
scenario uri-len uri http "balance uri len 3" "$FIVE" "${URIS[@]}"
scenario uri-depth uri http "balance uri depth 2" "$FIVE" "${URIS[@]}"
scenario uri-depth-len uri http "balance uri depth 2 len 5" "$FIVE" "${URIS[@]}"
scenario uri-path-only uri http "balance uri path-only" "$FIVE" "${URIS[@]}"
scenario uri-path-only-whole uri http "balance uri path-only whole" "$FIVE" "${URIS[@]}"
# ---- url_param ----------------------------------------------------------------------------
PARAMS=(/ '/?id=1' '/?id=2' '/?id=3' '/x?a=1&id=42' '/x?id=42&a=1' '/x?id=' '/x?ID=5'
	'/x?xid=5' '/x?id=abc&id=def' '/x?a=1' '/?id=1' / / / / '/x?foo' '/?id=hello%20world')
scenario param-sdbm uri http "balance url_param id" "$FIVE" "${PARAMS[@]}"
scenario param-consistent uri http $'balance url_param id\nhash-type consistent' "$FIVE" "${PARAMS[@]}"
scenario param-fallback-weights uri http "balance url_param id" $'s1 weight 2\ns2 weight 1\ns3 weight 1' / / / / / / / /
scenario param-fallback-consistent uri http $'balance url_param id\nhash-type consistent' $'s1\ns2\ns3' / / / / / / / / / / / /
# ---- hdr ----------------------------------------------------------------------------------
HDRS=(alice bob carol dave - eve 'a, b' 'a,c' '' www.example.com example.com localhost
	haproxy.1wt.eu a.b.c.d - -)
scenario hdr-sdbm hdr http "balance hdr(X-Key)" "$FIVE" X-Key "${HDRS[@]}"
scenario hdr-consistent hdr http $'balance hdr(X-Key)\nhash-type consistent' "$FIVE" X-Key "${HDRS[@]}"
scenario hdr-domain hdr http "balance hdr(X-Key) use_domain_only" "$FIVE" X-Key "${HDRS[@]}"
scenario hdr-domain-crc32 hdr http $'balance hdr(X-Key) use_domain_only\nhash-type map-based crc32' "$FIVE" X-Key "${HDRS[@]}"
echo "done"
