#!/usr/bin/env bash
# make bench: install the peers (Debian packages), build airlockd and the
# benchmark, run every configuration side by side and write BENCHMARKS.md.
#   scripts/bench.sh            the full suite (about 11 minutes on 2 cores)
#   scripts/bench.sh --smoke    direct vs in-process Airlock, a few seconds, no peers
# Extra arguments go to airlock-bench (e.g. --runs 5 --duration 3s).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:--mod=mod}" CGO_ENABLED="${CGO_ENABLED:-0}"
GO="${GO:-go}"
OUT="${BENCH_OUT:-BENCHMARKS.md}"
mkdir -p bin

if [[ "${1:-}" == "--smoke" ]]; then
	shift
	"$GO" build -o bin/airlock-bench ./cmd/airlock-bench
	exec bin/airlock-bench run --smoke --out "${BENCH_OUT:-bin/BENCHMARKS-smoke.md}" "$@"
fi

install_peers() {
	local missing=()
	command -v nginx >/dev/null || missing+=(nginx-light)
	command -v mitmdump >/dev/null || missing+=(mitmproxy)
	command -v h2load >/dev/null || missing+=(nghttp2-client)
	((${#missing[@]} == 0)) && return 0
	if [[ $(id -u) -ne 0 ]]; then
		echo "bench: ${missing[*]} missing and not root: those peers are left out" >&2
		return 0
	fi
	echo "bench: installing ${missing[*]}" >&2
	apt-get update -qq
	# Keep the packages' own services stopped: the benchmark starts nginx itself.
	local rc=/usr/sbin/policy-rc.d created=0
	if [[ ! -e $rc ]]; then printf '#!/bin/sh\nexit 101\n' >"$rc" && chmod +x "$rc" && created=1; fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || echo "bench: apt-get failed: peers left out" >&2
	((created)) && rm -f "$rc"
	return 0
}

install_peers
"$GO" build -o bin/airlock-bench ./cmd/airlock-bench
AIRLOCKD=()
if [[ $(id -u) -ne 0 ]]; then
	echo "bench: not root: airlockd's eBPF capture path cannot be measured" >&2
elif "$GO" build -o bin/ ./cmd/airlockd; then
	AIRLOCKD=(--airlockd "$PWD/bin/airlockd")
else
	echo "bench: airlockd does not build: measuring Airlock's in-process pieces instead" >&2
fi
ulimit -n 65536 2>/dev/null || true
bin/airlock-bench run --out "$OUT" --profile-dir bin/profiles "${AIRLOCKD[@]}" "$@"

# Fleets: the cost of central audit shipping (same Airlock, audit.central off and on, one
# run) and the central sink's throughput, both against a private PostgreSQL the tests start.
if [[ $(id -u) -eq 0 ]] && scripts/install-deps.sh test; then
	BENCH_CENTRAL_OUT="$PWD/bin/central.md" "$GO" test -count=1 -run TestCentralOverhead ./internal/bench >&2 &&
		{ echo; cat bin/central.md; } >>"$OUT"
	sink=$("$GO" test -count=1 -run '^$' -bench Ship -benchtime 3x ./audit/central | awk '/records\/s/ {print $(NF-1)}')
	printf 'Central sink: one host ships **%s records/s** into PostgreSQL (`go test ./audit/central -run %s -bench Ship -benchtime 3x`; the goal is at least 5,000).\n' \
		"${sink:-unmeasured}" "'^\$'" >>"$OUT"
else
	echo "bench: not root, or PostgreSQL missing: the fleet figures are left out" >&2
fi
echo "bench: wrote $OUT" >&2
