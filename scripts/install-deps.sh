#!/usr/bin/env bash
# Installs what a make target needs on a Debian 12 machine, as root:
#   scripts/install-deps.sh demo    what `make demo` runs (clients, tools, Node for the SDK demo)
#   scripts/install-deps.sh test    what `make test` runs (demo's, plus every real peer the tests start)
# `make demo` and `make test` call it themselves (`make bench` installs its peers in scripts/bench.sh). Idempotent and quick when everything
# is present: one dpkg query, no apt-get. AIRLOCK_DEPS_EXTRA adds packages (for the script's own test).
set -euo pipefail

target=${1:-test}

# Each entry is PACKAGE or PACKAGE:COMMAND; with a command, any copy of it on PATH will do (Node,
# Java and Go may come from outside Debian's packages).
demo=(curl ca-certificates openssl iproute2 util-linux mount nodejs:node npm:npm
	docker.io:dockerd # the demo's container section starts a private dockerd of its own
)
test=("${demo[@]}"
	clang llvm libbpf-dev           # make generate-check rebuilds the eBPF objects
	openjdk-17-jre-headless:keytool # the CA must parse in Java
	debootstrap systemd-container   # the install tests boot a Debian machine (testutil.DebianRootfs, systemd-nspawn)
	podman                          # and rootful podman with private storage (e2e/podman_test.go)
	postgresql                      # the fleet tests start a private PostgreSQL
	prometheus:promtool             # deploy/prometheus's alert rules are checked and unit-tested
	chromium                        # the web console's browser tests drive it headless (chromedp)
)

case $target in
demo) wanted=("${demo[@]}") ;;
test) wanted=("${test[@]}") ;;
*) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac
read -ra extra <<<"${AIRLOCK_DEPS_EXTRA:-}"
wanted+=("${extra[@]}")

# missing prints the packages that are neither installed nor stood in for by a command on PATH.
missing() {
	local pkgs=() p
	for p in "$@"; do
		[[ $p == *:* ]] && command -v "${p#*:}" >/dev/null && continue
		pkgs+=("${p%%:*}")
	done
	((${#pkgs[@]})) || return 0
	# One dpkg-query for all of them: "name status" per installed package.
	local installed
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${pkgs[@]}" 2>/dev/null || true)
	for p in "${pkgs[@]}"; do
		grep -qx "$p installed" <<<"$installed" || echo "$p"
	done
}

mapfile -t need < <(missing "${wanted[@]}")
if ((${#need[@]})); then
	if [[ $(id -u) != 0 ]]; then
		echo "make $target needs these Debian packages, and installing them needs root: ${need[*]}" >&2
		echo "run it again with sudo (sudo make $target), or install them: apt-get install ${need[*]}" >&2
		exit 1
	fi
	echo "installing for make $target: ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# The tests start their own private dockerd, PostgreSQL and the rest; keep the
	# packages' services from starting (a system dockerd would add a bridge and
	# firewall rules to the host).
	# apt's output goes to a private file, shown only on failure, removed either way.
	rc=/usr/sbin/policy-rc.d log=$(mktemp -t airlock-deps.XXXXXX) ours=
	if [[ ! -e $rc ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$rc" && chmod +x "$rc" && ours=$rc
	fi
	trap 'rm -f "$log" ${ours:+"$ours"}' EXIT
	if ! apt-get install -y -qq --no-install-recommends "${need[@]}" >"$log" 2>&1; then
		cat "$log" >&2
		# Name the packages that apt could not provide, so the fix is obvious.
		mapfile -t still < <(missing "${wanted[@]}")
		echo "could not install: ${still[*]:-see the apt-get output above}" >&2
		exit 1
	fi
fi

# The bpf filesystem: pinned links and maps live there. Many VMs do not mount it.
if ! mountpoint -q /sys/fs/bpf; then
	if [[ $(id -u) != 0 ]]; then
		echo "the bpf filesystem is not mounted at /sys/fs/bpf and mounting it needs root: run with sudo" >&2
		exit 1
	fi
	mount -t bpf bpf /sys/fs/bpf
fi
