#!/usr/bin/env bash
# Installs what building, testing and the demo need on a Debian 12 machine, as root.
# Idempotent: safe to run again.
set -euo pipefail

pkgs=(clang llvm libbpf-dev curl ca-certificates openssl iproute2 util-linux mount nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node may come from outside Debian's packages; any node and npm on PATH will do.
if command -v node >/dev/null && command -v npm >/dev/null; then
	missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -ra missing <<<"${missing[*]}"
if ((${#missing[@]})); then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The bpf filesystem: pinned links and maps live there. Many VMs do not mount it.
if ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf
fi
