#!/usr/bin/env bash
# make demo: Airlock end to end on this machine, in about a minute, with no
# Claude account. As root it builds airlockd, starts a fake Claude API on
# loopback, starts airlockd attached to a child cgroup it creates, and runs
# unmodified clients in that cgroup and a private mount namespace where
# api.anthropic.com resolves to a loopback target and the Airlock CA is
# trusted through `airlock trust install` (the host's trust store and
# /etc/hosts are never touched). Then it shows what the app sent, what the
# upstream received, what the app got back, and the audit record. Everything
# is removed on exit, success or not.
set -euo pipefail
cd "$(dirname "$0")/.."

LEAKED_KEY="sk-ant-api03-FAKE-leaked-key-in-the-demo-app" # what a careless app embeds
MANAGED_KEY="sk-ant-api03-FAKE-demo-managed-key-not-real"  # what only airlockd holds
SECRET="AKIAFAKEDEMOKEY23456"                              # a fake AWS key pasted into a prompt
API_HOST=api.anthropic.com
TARGET=127.0.100.1

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || die "needs root (eBPF, cgroups, mount namespaces): run 'sudo make demo'"
# sudo's secure_path usually lacks Go's directory: take make's $(GO), else the usual place.
GO=${GO:-go}
command -v "$GO" >/dev/null || GO=/usr/local/go/bin/go
command -v "$GO" >/dev/null || die "needs Go (https://go.dev/dl), then run 'sudo make demo' again"
command -v curl >/dev/null || die "needs curl: run scripts/install-deps.sh"
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

work=$(mktemp -d /tmp/airlock-demo.XXXXXX)
id=$(basename "$work" | tr -cd 'a-zA-Z0-9' | tail -c 8)
pin_dir=/sys/fs/bpf/airlock-demo-$id
cgroup=""
daemon_pid="" upstream_pid="" dockerd_pid=""

cleanup() {
	local rc=$?
	set +e
	[[ -n $dockerd_pid ]] && stop_docker
	[[ -n $daemon_pid ]] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	[[ -n $upstream_pid ]] && kill -TERM "$upstream_pid" 2>/dev/null && wait "$upstream_pid" 2>/dev/null
	# fail_mode open detaches on a clean exit; after a crash the pins are still
	# there, and removing them detaches the programs.
	rm -rf "$pin_dir"
	if [[ -n $cgroup && -d $cgroup ]]; then
		for pid in $(cat "$cgroup/cgroup.procs" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		for _ in 1 2 3 4 5 6 7 8 9 10; do find "$cgroup" -depth -type d -exec rmdir {} + 2>/dev/null; [[ -d $cgroup ]] || break; sleep 0.2; done
	fi
	if ((rc != 0)) && [[ -f $work/airlockd.log ]]; then
		echo "--- airlockd log (last 20 lines) ---" >&2
		tail -20 "$work/airlockd.log" >&2
	fi
	rm -rf "$work"
	((rc == 0)) && bold "cleaned up: no daemon, no pins, no cgroup, no files left"
	exit $rc
}
trap cleanup EXIT INT TERM

# The demo's private dockerd (section 6): its own roots and socket under $work, no bridge, no
# firewall rules. stop_docker removes its containers, stops it by pid, and removes what it left:
# mounts under its roots and the cgroups it made for --cgroup-parent in every v1 hierarchy.
docker_() { docker -H "unix://$work/d/docker.sock" "$@"; }
stop_docker() {
	local ids d
	ids=$(docker_ ps -aq 2>/dev/null || true)
	[[ -z $ids ]] || docker_ rm -f $ids >/dev/null 2>&1 || true
	kill -TERM "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null || true
	{ grep -o " $work/[^ ]*" /proc/self/mountinfo || true; } | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	for d in /sys/fs/cgroup/*/airlock-demo-$id; do
		[[ $d == "$cgroup" ]] || find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

cgroup2_mount() {
	local m
	for m in /sys/fs/cgroup /sys/fs/cgroup/unified; do
		[[ $(stat -f -c %T "$m" 2>/dev/null) == cgroup2fs ]] && { echo "$m"; return; }
	done
	die "no cgroup v2 mount (fix: mount -t cgroup2 none /sys/fs/cgroup/unified)"
}

bold "building airlockd, airlock and the fake Claude API"
"$GO" build -o "$work/bin/" ./cmd/airlockd ./cmd/airlock ./e2e/testdata/demoupstream
bin=$work/bin
airlock() { "$bin/airlock" --config "$work/airlock.yaml" "$@"; }

bold "starting the fake Claude API on loopback (its own CA; accepts only the managed key)"
"$bin/demoupstream" -listen 127.0.0.1:0 -ca-out "$work/upstream-ca.pem" -key "$MANAGED_KEY" \
	-log "$work/upstream.log" >"$work/upstream.out" 2>&1 &
upstream_pid=$!
for _ in $(seq 50); do grep -q '^listening on' "$work/upstream.out" && break; sleep 0.1; done
upstream=$(sed -n 's/^listening on //p' "$work/upstream.out")
[[ -n $upstream ]] || die "the fake API did not start: $(cat "$work/upstream.out")"
note "fake api.anthropic.com at $upstream"

cgroup=$(cgroup2_mount)/airlock-demo-$id
mkdir "$cgroup"
printf '%s\n' "$MANAGED_KEY" >"$work/managed.key" && chmod 0400 "$work/managed.key"
cat >"$work/policy.yaml" <<POLICY
rules:
  - id: demo-allow
    description: the demo's clients may call the API with the managed key
    when: caller.cgroup.contains("airlock-demo")
    action: allow
    reason: demo client
default:
  action: deny
  reason: only the demo's cgroup is expected here
POLICY
cat >"$work/airlock.yaml" <<CONFIG
state_dir: $work/state
runtime_dir: $work/run
log: {level: info, format: console}
capture:
  cgroup: $cgroup              # a child cgroup: only the demo's clients are captured
  pin_dir: $pin_dir
  listen_v4: "127.0.0.1:0"
  listen_v6: "[::1]:0"
  targets: [127.0.100.0/24]    # loopback stand-in for Anthropic's ranges
  hosts: []
  fail_mode: open              # detach on exit: the demo leaves nothing attached
  containers: {sockets: [$work/d/docker.sock]}   # the demo's private dockerd names its containers
upstream:
  override: "$upstream"        # the fake API instead of the real one
  extra_ca_file: $work/upstream-ca.pem
credentials:
  - {name: default, kind: api_key, file: $work/managed.key}
policy: {file: $work/policy.yaml}
CONFIG

bold "starting airlockd (attached to $cgroup only)"
"$bin/airlockd" --config "$work/airlock.yaml" >"$work/airlockd.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do
	airlock status >/dev/null 2>&1 && break
	kill -0 "$daemon_pid" 2>/dev/null || die "airlockd exited: $(tail -3 "$work/airlockd.log")"
	sleep 0.2
done
airlock status >/dev/null 2>&1 || die "airlockd is not answering on its admin socket"
note "ready; CA fingerprint $(airlock status --json | sed -n 's/.*"fingerprint": *"\([0-9a-f]\{16\}\).*/\1/p')…"

bold "provisioning trust inside the demo's own mount namespace (airlock trust install)"
e2e/sandbox.sh --prepare "$work/layer" --host "$TARGET $API_HOST" \
	--trust-cmd "'$bin/airlock' --config '$work/airlock.yaml' trust install"
note "api.anthropic.com -> $TARGET and the CA are visible to the demo's clients only"
sandbox() { e2e/sandbox.sh --cgroup "$cgroup" --layer "$work/layer" -- "$@"; }

prompt="Why does my deploy fail? My AWS key is $SECRET"
body=$(printf '{"model":"claude-haiku-4-5","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"%s"}]}' "$prompt")

bold "1. what the app sends (curl, unmodified, to https://$API_HOST)"
note "x-api-key: $LEAKED_KEY   <- the key leaked in its code"
note "prompt:    $prompt"

bold "2. the streamed answer, as the app saw it"
sandbox curl -sSN --max-time 30 "https://$API_HOST/v1/messages" \
	-H "x-api-key: $LEAKED_KEY" -H "anthropic-version: 2023-06-01" -H "content-type: application/json" \
	-d "$body" >"$work/curl.out"
note "$(grep -c '^event:' "$work/curl.out") server-sent events; the text deltas joined:"
note "$(sed -n 's/.*"text_delta","text":"\(.*\)"}}$/\1/p' "$work/curl.out" | tr -d '\n')"

node_dir=${AIRLOCK_E2E_NODE_DIR:-$HOME/.cache/airlock/e2e-node}
if command -v node >/dev/null && { [[ -f $node_dir/node_modules/@anthropic-ai/sdk/package.json ]] || make -s e2e-node >/dev/null 2>&1; }; then
	bold "3. the official TypeScript SDK, unmodified (its own embedded key, default base URL)"
	cp e2e/node/client.mjs "$node_dir/client.mjs"
	sandbox node "$node_dir/client.mjs" stream "Hello from Node" >"$work/node.out"
	note "streamed answer: $(sed -n 's/.*"text":"\([^"]*\)".*/\1/p' "$work/node.out")"
else
	bold "3. (skipped: Node or the npm registry is not available for the TypeScript SDK)"
fi

sleep 0.3 # let the fake API's log catch up
bold "4. what the upstream received (only the managed key; the prompt masked)"
sed 's/^/   /' "$work/upstream.log"
if grep -q "$LEAKED_KEY" "$work/upstream.log"; then die "the leaked key reached the upstream"; fi
if grep -q "$SECRET" "$work/upstream.log"; then die "the AWS key reached the upstream"; fi

if command -v dockerd >/dev/null; then
	bold "5. a Docker container: no network but its own loopback, intercepted and named"
	mkdir -p "$work/d" "$work/image/etc" "$work/image/tmp"
	dockerd --data-root "$work/d/data" --exec-root "$work/d" -H "unix://$work/d/docker.sock" \
		--pidfile "$work/d/dockerd.pid" --iptables=false --ip6tables=false --bridge=none --ip-masq=false \
		>"$work/dockerd.log" 2>&1 &
	dockerd_pid=$!
	# The image: the host's curl and the libraries it loads, nothing else (no registry, no debootstrap).
	for f in /usr/bin/curl $(ldd /usr/bin/curl | grep -o '/[^ ]*'); do cp --parents -L "$f" "$work/image"; done
	for _ in $(seq 100); do docker_ version >/dev/null 2>&1 && break; sleep 0.2; done
	tar -C "$work/image" -c . | docker_ import - airlock-demo/curl:latest >/dev/null
	note "a private dockerd (its own roots, no bridge, no iptables) and an image of the host's curl"
	docker_ run --rm --name "airlock-demo-agent-$id" --network none --add-host "$API_HOST:$TARGET" \
		--cgroup-parent "/airlock-demo-$id" -v "$work/state/ca/ca.crt:/airlock-ca.pem:ro" airlock-demo/curl:latest \
		curl -sS --max-time 30 --cacert /airlock-ca.pem "https://$API_HOST/v1/messages" \
		-H "x-api-key: $LEAKED_KEY" -H "anthropic-version: 2023-06-01" -H "content-type: application/json" \
		-d '{"model":"claude-haiku-4-5","max_tokens":64,"messages":[{"role":"user","content":"Hello from a container"}]}' \
		>"$work/container.out"
	note "answer in the container: $(sed -n 's/.*"text":"\([^"]*\)".*/\1/p' "$work/container.out")"
	grep -q "$LEAKED_KEY" "$work/upstream.log" && die "the container's leaked key reached the upstream"
	note "the audit names it: $(airlock audit list --json | grep -o '"container_\(name\|image\)": *"[^"]*"' | tail -2 | tr '\n' ' ')"
	stop_docker
	dockerd_pid=""
else
	bold "5. (skipped: dockerd is not installed; scripts/install-deps.sh demo installs docker.io)"
fi

bold "6. the audit trail: which process called, with what, and what was decided"
airlock audit list | sed 's/^/   /'
bold "   the first record in full (the leaked key is a fingerprint, never a value)"
airlock audit show 1 | sed 's/^/   /'
