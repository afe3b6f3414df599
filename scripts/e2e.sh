#!/usr/bin/env bash
# End-to-end check against a real trace backend: runs every service of
# examples/pipeline as its own process, exporting spans over OTLP/HTTP to a
# local Jaeger, sends one sampled and one unsampled request through
# HTTP -> Pulsar -> Watermill (Redis Streams) -> Pub/Sub, stops the services
# (which flushes their spans) and checks in Jaeger's query API that
#   - the sampled request is ONE trace holding every service, rooted at the
#     gateway's HTTP server span, each consumer's process span a child of the
#     producer's send span, no orphan spans, names, kinds and key attributes
#     as documented (examples/pipeline/expect.go);
#   - the unsampled request left nothing in any service.
# A mismatch is printed as the expected tree next to the one found. The
# same two checks then run through cmd/tracecheck, as a user's CI job would.
#
# Needs: Go, curl, Redis on 127.0.0.1:6379 (started through scripts/services.sh
# when down). Jaeger is built on first use (several minutes, then cached) by
# scripts/jaeger.sh, started here and stopped on exit unless it was already
# running. Every process started here is stopped on exit, success or failure.
#
# Environment: E2E_TIMEOUT [30] seconds to wait for each step.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

step_timeout="${E2E_TIMEOUT:-30}"
jaeger_query="http://127.0.0.1:${ASYNCTRACE_JAEGER_QUERY_PORT:-16686}"
otlp_endpoint="http://127.0.0.1:${ASYNCTRACE_JAEGER_OTLP_HTTP_PORT:-4318}"
run_id="$(date +%s)-$$"
service_prefix="e2e-$run_id-"
watermill_topic="job-events-e2e-$run_id"
work="$(mktemp -d "${TMPDIR:-/tmp}/asynctrace-e2e.XXXXXX")"
started=$SECONDS

declare -A role_pid=()
own_jaeger=0
ok=0

log() { printf 'e2e: [%3d s] %s\n' "$((SECONDS - started))" "$*" >&2; }
die() {
	log "FAIL: $*"
	exit 1
}

# stop_pid ends one process this script started: SIGTERM, then SIGKILL
# after 20 s. It returns the process's exit status.
stop_pid() {
	local pid=$1 deadline=$((SECONDS + 20)) status=0
	kill -0 "$pid" 2>/dev/null || {
		wait "$pid" 2>/dev/null || status=$?
		return $status
	}
	kill -TERM "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			log "pid $pid did not stop within 20 s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	wait "$pid" 2>/dev/null || status=$?
	return $status
}

# stop_role stops a role and fails the run if it did not exit cleanly
# (its exit status says whether its spans were flushed).
stop_role() {
	local role=$1 status=0
	[[ -n "${role_pid[$role]:-}" ]] || return 0
	stop_pid "${role_pid[$role]}" || status=$?
	unset "role_pid[$role]"
	((status == 0)) || die "$role exited with status $status; its log:$(printf '\n'; cat "$work/$role.log")"
}

# Services stop from the entry down, the brokers last, so that none of them
# spends its shutdown reconnecting to a broker that is gone.
stop_order=(gateway-unsampled gateway job-worker event-router notifier brokers pulsartest)

cleanup() {
	local role
	for role in "${stop_order[@]}"; do
		[[ -n "${role_pid[$role]:-}" ]] && { stop_pid "${role_pid[$role]}" || true; }
	done
	if ((ok == 0)); then
		for f in "$work"/*.log; do
			[[ -s "$f" ]] || continue
			log "---- $(basename "$f")"
			tail -n 30 "$f" >&2
		done
	fi
	if command -v redis-cli >/dev/null; then
		redis-cli -h 127.0.0.1 -p 6379 DEL "$watermill_topic" >/dev/null 2>&1 || true
	fi
	if ((own_jaeger)); then
		bash scripts/jaeger.sh stop || true
		log "Jaeger stopped"
	fi
	rm -rf "$work"
	if ((ok)); then
		log "PASS in $((SECONDS - started)) s"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_line waits until file holds a line matching the extended regex, and
# prints it; it fails when the process pid exits or the time is up.
wait_line() {
	local file=$1 regex=$2 pid=$3 what=$4 deadline=$((SECONDS + step_timeout)) line
	while :; do
		if line="$(grep -E -m1 -- "$regex" "$file" 2>/dev/null)"; then
			printf '%s\n' "$line"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || die "$what: the process exited; its log:$(printf '\n'; cat "$file")"
		((SECONDS < deadline)) || die "$what: not seen within ${step_timeout} s"
		sleep 0.1
	done
}

# start_role starts one service of the pipeline and waits for its "ready"
# line: start_role ROLE NAME [VAR=value...] [-- flags...]. Sampling and
# exporter variables of the calling shell are not passed on.
start_role() {
	local role=$1 name=$2 vars=() args=()
	shift 2
	while (($#)) && [[ "$1" != -- ]]; do
		vars+=("$1")
		shift
	done
	(($#)) && shift
	args=("$@")
	log "starting $name ($role)"
	env -u OTEL_TRACES_SAMPLER -u OTEL_TRACES_SAMPLER_ARG -u OTEL_SDK_DISABLED -u OTEL_TRACES_EXPORTER \
		-u OTEL_RESOURCE_ATTRIBUTES "${vars[@]}" \
		"$work/pipeline" --role "$role" --watermill-topic "$watermill_topic" "${args[@]}" >"$work/$name.log" 2>&1 &
	role_pid[$name]=$!
	wait_line "$work/$name.log" '^ready' "${role_pid[$name]}" "$name ready" >/dev/null
}

# post sends a job to the gateway at $1 and sets posted_job and
# posted_traceresponse.
post() {
	local url=$1 headers="$work/headers" body="$work/body" code
	code="$(curl --silent --show-error --max-time "$step_timeout" -o "$body" -D "$headers" -w '%{http_code}' \
		-X POST -H 'Content-Type: application/json' -d '{"input":"end to end"}' "$url/v1/process")" ||
		die "POST $url/v1/process failed"
	[[ "$code" == 202 ]] || die "POST $url/v1/process answered $code: $(cat "$body")"
	posted_traceresponse="$(tr -d '\r' <"$headers" | awk -F': ' 'tolower($1) == "traceresponse" { print $2 }')"
	[[ "$posted_traceresponse" =~ ^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$ ]] ||
		die "no valid traceresponse header in: $(cat "$headers")"
	posted_job="$(sed -n 's/.*"job_id":"\([0-9a-f]*\)".*/\1/p' "$body")"
	[[ -n "$posted_job" ]] || die "no job id in the answer: $(cat "$body")"
}

# 1. Servers: Redis for Watermill, Jaeger for the spans.
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
	log "Redis is down; starting the development servers"
	bash scripts/services.sh >&2
fi
if bash scripts/jaeger.sh status 2>/dev/null; then
	log "using the Jaeger that is already running"
else
	own_jaeger=1
	bash scripts/jaeger.sh start >/dev/null
fi

# tracecheck's own Jaeger tests (a trace written over OTLP and read back,
# links followed to a consumer's trace) need this Jaeger too; they skip
# without one, so they run here.
log "tracecheck's Jaeger tests"
ASYNCTRACE_REQUIRE_JAEGER=1 JAEGER_QUERY_URL="$jaeger_query" OTEL_EXPORTER_OTLP_ENDPOINT="$otlp_endpoint" \
	go test -count=1 -run 'TestJaegerRoundTrip|TestJaegerLinkedTraceLive' ./tracecheck >&2 ||
	die "tracecheck's tests against the real Jaeger failed"

# 2. Build once: the services' binary and the check.
log "building the pipeline and the checks"
(cd examples && go build -o "$work/pipeline" ./pipeline)
(cd examples && go test -tags e2e -c -o "$work/e2echeck" ./pipeline)
go build -o "$work/tracecheck" ./cmd/tracecheck
go build -o "$work/pulsartest" ./pulsartrace/pulsartest/cmd/pulsartest

# 3. Brokers, then consumers before producers. Pulsar is the standalone
# pulsartest command, on ports the kernel picks; its admin API answers the
# check that the topic exists at the end.
log "starting brokers"
"$work/pulsartest" --listen 127.0.0.1:0 --admin 127.0.0.1:0 >"$work/pulsartest.log" 2>&1 &
role_pid[pulsartest]=$!
wait_line "$work/pulsartest.log" '^admin API:' "${role_pid[pulsartest]}" "pulsartest ready" >/dev/null
pulsar_url="$(sed -n 's/^pulsar broker: //p' "$work/pulsartest.log")"
pulsar_admin="$(sed -n 's/^admin API: *//p' "$work/pulsartest.log")"
PULSAR_URL="$pulsar_url" "$work/pipeline" --role brokers >"$work/brokers.log" 2>&1 &
role_pid[brokers]=$!
wait_line "$work/brokers.log" '^ready' "${role_pid[brokers]}" "brokers ready" >/dev/null
pulsar_url="$(sed -n 's/^PULSAR_URL=//p' "$work/brokers.log")"
pubsub_host="$(sed -n 's/^PUBSUB_EMULATOR_HOST=//p' "$work/brokers.log")"
[[ -n "$pulsar_url" && -n "$pubsub_host" ]] || die "brokers printed no addresses: $(cat "$work/brokers.log")"
log "Pulsar $pulsar_url, Pub/Sub $pubsub_host"

common=(PULSAR_URL="$pulsar_url" PUBSUB_EMULATOR_HOST="$pubsub_host" WATERMILL_REDIS_ADDR=127.0.0.1:6379
	OTEL_EXPORTER_OTLP_ENDPOINT="$otlp_endpoint" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)
start_role pubsub-consumer notifier "${common[@]}" OTEL_SERVICE_NAME="${service_prefix}notifier"
start_role watermill-router event-router "${common[@]}" OTEL_SERVICE_NAME="${service_prefix}event-router"
start_role pulsar-consumer job-worker "${common[@]}" OTEL_SERVICE_NAME="${service_prefix}job-worker"
start_role gateway gateway "${common[@]}" OTEL_SERVICE_NAME="${service_prefix}gateway" -- --addr 127.0.0.1:0
# The gateway's ready line holds the port it listens on.
gateway_url="$(sed -n 's/^ready: gateway listening on //p' "$work/gateway.log")"

# 4. A sampled request, followed to the last service.
post "$gateway_url"
job=$posted_job traceresponse=$posted_traceresponse
trace_id="$(cut -d- -f2 <<<"$traceresponse")"
[[ "$traceresponse" == *-01 ]] || die "the gateway did not sample the first request: $traceresponse"
log "job $job, trace $trace_id; waiting for the notifier"
# A broken hop does not stop the job, it starts a new trace: the notifier's
# line says which trace it saw, and the check in Jaeger shows the break.
done_line="$(wait_line "$work/notifier.log" "^job $job done " "${role_pid[notifier]}" "completion of job $job")"
log "notifier: $done_line"
[[ "$done_line" == "job $job done trace $trace_id sampled=true" ]] ||
	log "the notifier did not see trace $trace_id sampled: a hop lost the trace context"

# 5. The same through a second gateway that samples nothing at the entry.
start_role gateway gateway-unsampled "${common[@]}" OTEL_SERVICE_NAME="${service_prefix}gateway" \
	OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0 -- --addr 127.0.0.1:0
unsampled_url="$(sed -n 's/^ready: gateway listening on //p' "$work/gateway-unsampled.log")"
post "$unsampled_url"
job2=$posted_job traceresponse2=$posted_traceresponse
unsampled_id="$(cut -d- -f2 <<<"$traceresponse2")"
[[ "$traceresponse2" == *-00 ]] || die "the unsampled gateway sampled the request: $traceresponse2"
log "job $job2, unsampled trace $unsampled_id; waiting for the notifier"
done_line="$(wait_line "$work/notifier.log" "^job $job2 done " "${role_pid[notifier]}" "completion of job $job2")"
log "notifier: $done_line"
[[ "$done_line" == "job $job2 done trace $unsampled_id sampled=false" ]] ||
	log "the notifier did not see trace $unsampled_id unsampled: a hop lost the trace context"

# 6. The standalone broker's admin API, as pulsaradmin would ask it, lists
# the gateway's topic.
topics="$(curl -fsS "$pulsar_admin/admin/v2/persistent/public/default")" || die "pulsartest admin API did not answer"
[[ "$topics" == *'persistent://public/default/jobs'* ]] || die "pulsartest lists no jobs topic: $topics"
log "pulsartest admin API lists $topics"

# 7. Stop everything from the entry down; each flushes its spans on the way out.
for role in "${stop_order[@]}"; do
	stop_role "$role"
done
log "services stopped; checking Jaeger"

# 8. The check, with a readable diff on failure.
(cd examples/pipeline && timeout 120 "$work/e2echeck" -test.run '^TestE2E' -test.v -test.count=1 \
	-e2e.jaeger "$jaeger_query" -e2e.trace "$trace_id" -e2e.unsampled "$unsampled_id" \
	-e2e.service-prefix "$service_prefix" -e2e.watermill-topic "$watermill_topic" \
	-e2e.wait "${step_timeout}s") || die "the traces in Jaeger are not as expected (see above)"

# 9. The same through the command, from the headers the gateway answered.
p=$service_prefix
chain="${p}gateway:POST /v1/process (server) > ${p}gateway:send jobs (producer)"
chain+=" > ${p}job-worker:process jobs (consumer) > ${p}job-worker:send $watermill_topic (producer)"
chain+=" > ${p}event-router:process $watermill_topic (consumer) > ${p}event-router:send notifications (producer)"
chain+=" > ${p}notifier:process notifications-sender (consumer) > ${p}notifier:complete job (internal)"
log "cmd/tracecheck on trace $trace_id"
"$work/tracecheck" --jaeger "$jaeger_query" --trace "$traceresponse" --expect "$chain" --timeout "${step_timeout}s" >&2 ||
	die "cmd/tracecheck: trace $trace_id is not as expected (see above)"
"$work/tracecheck" --jaeger "$jaeger_query" --trace "$traceresponse2" --expect nothing --timeout "${step_timeout}s" >&2 ||
	die "cmd/tracecheck: the unsampled request left spans (see above)"
ok=1
