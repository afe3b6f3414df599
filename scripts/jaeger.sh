#!/usr/bin/env bash
# Builds, starts and stops a local Jaeger v2 all-in-one (in-memory storage,
# every listener on 127.0.0.1) for the end-to-end tests.
#
#   scripts/jaeger.sh build    build the binary into the cache unless it is there
#   scripts/jaeger.sh start    build if needed, start in the background, wait until ready
#   scripts/jaeger.sh stop     stop the instance started by "start"
#   scripts/jaeger.sh status   say whether it runs (exit 0) or not (exit 1)
#   scripts/jaeger.sh env      print shell assignments for the endpoints
#   scripts/jaeger.sh path     print the path of the cached binary
#
# Environment (defaults in brackets):
#   ASYNCTRACE_CACHE                   [$HOME/.cache/asynctrace] binary cache root
#   ASYNCTRACE_JAEGER_RUN_DIR          [${TMPDIR:-/tmp}/asynctrace-jaeger] pid and log files
#   ASYNCTRACE_JAEGER_OTLP_HTTP_PORT   [4318]
#   ASYNCTRACE_JAEGER_OTLP_GRPC_PORT   [4317]
#   ASYNCTRACE_JAEGER_QUERY_PORT       [16686] query API (/api/services, /api/traces)
#   ASYNCTRACE_JAEGER_QUERY_GRPC_PORT  [16685]
#   ASYNCTRACE_JAEGER_START_TIMEOUT    [60] seconds to wait for readiness
#   ASYNCTRACE_JAEGER_STOP_TIMEOUT     [15] seconds to wait after SIGTERM before SIGKILL
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"
module_dir="$repo_root/tools/jaeger"
config_file="$script_dir/jaeger-config.yaml"

host=127.0.0.1
export ASYNCTRACE_JAEGER_OTLP_HTTP_PORT="${ASYNCTRACE_JAEGER_OTLP_HTTP_PORT:-4318}"
export ASYNCTRACE_JAEGER_OTLP_GRPC_PORT="${ASYNCTRACE_JAEGER_OTLP_GRPC_PORT:-4317}"
export ASYNCTRACE_JAEGER_QUERY_PORT="${ASYNCTRACE_JAEGER_QUERY_PORT:-16686}"
export ASYNCTRACE_JAEGER_QUERY_GRPC_PORT="${ASYNCTRACE_JAEGER_QUERY_GRPC_PORT:-16685}"
start_timeout="${ASYNCTRACE_JAEGER_START_TIMEOUT:-60}"
stop_timeout="${ASYNCTRACE_JAEGER_STOP_TIMEOUT:-15}"
[[ "$start_timeout" =~ ^[0-9]+$ ]] || { echo "jaeger.sh: error: ASYNCTRACE_JAEGER_START_TIMEOUT must be whole seconds" >&2; exit 1; }
[[ "$stop_timeout" =~ ^[0-9]+$ ]] || { echo "jaeger.sh: error: ASYNCTRACE_JAEGER_STOP_TIMEOUT must be whole seconds" >&2; exit 1; }
run_dir="${ASYNCTRACE_JAEGER_RUN_DIR:-${TMPDIR:-/tmp}/asynctrace-jaeger}"
pid_file="$run_dir/jaeger.pid"
log_file="$run_dir/jaeger.log"

log() { printf 'jaeger.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The version comes from tools/jaeger/go.mod so that the cache key cannot
# drift from what is actually built.
jaeger_version() {
	local v
	v="$(awk '$1 == "require" && $2 == "github.com/jaegertracing/jaeger" { print $3 }' "$module_dir/go.mod")"
	[[ -n "$v" ]] || die "cannot find the github.com/jaegertracing/jaeger requirement in $module_dir/go.mod"
	printf '%s\n' "$v"
}

binary_path() {
	printf '%s/jaeger-%s/jaeger\n' "${ASYNCTRACE_CACHE:-$HOME/.cache/asynctrace}" "$(jaeger_version)"
}

cmd_build() {
	local bin dir tmp started
	bin="$(binary_path)"
	if [[ -x "$bin" ]]; then
		log "using cached $bin"
		return 0
	fi
	command -v go >/dev/null || die "go is not on PATH; it is needed to build Jaeger"
	dir="$(dirname "$bin")"
	mkdir -p "$dir"
	tmp="$(mktemp "$dir/.jaeger.XXXXXX")"
	# The temp file is removed on any failure; only a complete binary is renamed into place.
	# shellcheck disable=SC2064 # the path is fixed now; $tmp is local and gone at exit
	trap "rm -f '$tmp'" EXIT
	log "building Jaeger $(jaeger_version) into $bin (several minutes on a cold cache)"
	started=$SECONDS
	(cd "$module_dir" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly go build -trimpath -buildvcs=false -ldflags="-s -w" -o "$tmp" github.com/jaegertracing/jaeger/cmd/jaeger) ||
		die "building Jaeger failed"
	chmod 755 "$tmp"
	mv -f "$tmp" "$bin"
	trap - EXIT
	log "built $bin in $((SECONDS - started)) s"
}

# port_in_use succeeds when something accepts connections on 127.0.0.1:$1.
port_in_use() {
	timeout 2 bash -c "exec 3<>/dev/tcp/$host/$1" 2>/dev/null
}

running_pid() {
	local pid
	[[ -f "$pid_file" ]] || return 1
	pid="$(cat "$pid_file" 2>/dev/null || true)"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	# Guard against a recycled pid: the process must run a binary named jaeger.
	[[ "$(basename "$(readlink "/proc/$pid/exe" 2>/dev/null)")" == jaeger ]] || return 1
	printf '%s\n' "$pid"
}

http_ok() {
	curl --silent --fail --max-time 2 --output /dev/null "$1"
}

show_log_tail() {
	if [[ -s "$log_file" ]]; then
		log "last lines of $log_file:"
		tail -n 40 "$log_file" >&2
	fi
}

cmd_start() {
	local bin pid port deadline
	command -v curl >/dev/null || die "curl is not on PATH; it is needed to check readiness"
	[[ -f "$config_file" ]] || die "missing $config_file"
	if pid="$(running_pid)"; then
		log "already running (pid $pid)"
		cmd_env
		return 0
	fi
	for port in "$ASYNCTRACE_JAEGER_OTLP_HTTP_PORT" "$ASYNCTRACE_JAEGER_OTLP_GRPC_PORT" \
		"$ASYNCTRACE_JAEGER_QUERY_PORT" "$ASYNCTRACE_JAEGER_QUERY_GRPC_PORT"; do
		if ! [[ "$port" =~ ^[1-9][0-9]{0,4}$ ]] || ((port > 65535)); then
			die "invalid port '$port'"
		fi
		if port_in_use "$port"; then
			die "port $host:$port is already in use; stop whatever listens there or set the ASYNCTRACE_JAEGER_*_PORT variables"
		fi
	done
	cmd_build
	bin="$(binary_path)"
	mkdir -p "$run_dir"
	: >"$log_file"
	# Jaeger stays in the caller's process group: whoever kills that group
	# (a CI time-out, a job runner) takes Jaeger down too instead of leaking it.
	"$bin" --config "$config_file" >"$log_file" 2>&1 </dev/null &
	pid=$!
	printf '%s\n' "$pid" >"$pid_file"
	log "started pid $pid, log $log_file"

	deadline=$((SECONDS + start_timeout))
	while :; do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$pid_file"
			show_log_tail
			die "Jaeger exited during start-up"
		fi
		if http_ok "http://$host:$ASYNCTRACE_JAEGER_QUERY_PORT/api/services" &&
			port_in_use "$ASYNCTRACE_JAEGER_OTLP_HTTP_PORT" &&
			port_in_use "$ASYNCTRACE_JAEGER_OTLP_GRPC_PORT"; then
			break
		fi
		if ((SECONDS >= deadline)); then
			show_log_tail
			cmd_stop || true
			die "Jaeger did not become ready within ${start_timeout} s"
		fi
		sleep 0.2
	done
	log "ready: query API http://$host:$ASYNCTRACE_JAEGER_QUERY_PORT, OTLP/HTTP http://$host:$ASYNCTRACE_JAEGER_OTLP_HTTP_PORT"
	cmd_env
}

cmd_stop() {
	local pid deadline
	if ! pid="$(running_pid)"; then
		rm -f "$pid_file"
		log "not running"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	deadline=$((SECONDS + stop_timeout))
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			log "pid $pid still running after ${stop_timeout} s; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.2
	done
	rm -f "$pid_file"
	log "stopped pid $pid"
}

cmd_status() {
	local pid
	if pid="$(running_pid)"; then
		log "running (pid $pid), log $log_file"
		return 0
	fi
	log "not running"
	return 1
}

cmd_env() {
	printf 'OTEL_EXPORTER_OTLP_ENDPOINT=http://%s:%s\n' "$host" "$ASYNCTRACE_JAEGER_OTLP_HTTP_PORT"
	printf 'OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf\n'
	printf 'JAEGER_QUERY_URL=http://%s:%s\n' "$host" "$ASYNCTRACE_JAEGER_QUERY_PORT"
}

usage() {
	sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

case "${1:-}" in
build) cmd_build ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) cmd_env ;;
path) binary_path ;;
*) usage ;;
esac
