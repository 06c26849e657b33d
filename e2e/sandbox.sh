#!/usr/bin/env bash
# sandbox.sh runs one unmodified client the way Airlock's demo and end-to-end
# tests need it, without changing the host:
#   - inside a child cgroup (--cgroup), so the eBPF redirect attached there applies;
#   - inside a private mount namespace whose /etc and /usr/local/share/ca-certificates
#     are overlays on a temporary directory, so the host's files are untouched;
#   - with host names pinned in that namespace's /etc/hosts (--host "ADDR NAME"),
#     e.g. api.anthropic.com -> 127.0.100.1, a loopback target;
#   - with the CA trusted only through what `airlock trust install` provisions
#     (--trust-cmd), then the environment drop-ins it wrote are read, as a login
#     shell or a service would.
# Usage: sandbox.sh [--cgroup DIR] [--host "ADDR NAME"]... [--trust-cmd CMD] -- COMMAND [ARG]...
# The command's exit status is the script's.
set -euo pipefail

inner() {
	local work=$1; shift
	for d in /etc /usr/local/share/ca-certificates; do
		local name; name=$(echo "$d" | tr / _)
		mkdir -p "$work/$name.upper" "$work/$name.work"
		mount -t overlay "airlock-sandbox$name" \
			-o "lowerdir=$d,upperdir=$work/$name.upper,workdir=$work/$name.work" "$d"
	done
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n%s\n' "${SANDBOX_HOSTS:-}" >/etc/hosts
	if [[ -n ${SANDBOX_TRUST:-} ]]; then
		sh -c "$SANDBOX_TRUST" >"$work/trust.log" 2>&1 || { cat "$work/trust.log" >&2; echo "sandbox: trust install failed" >&2; exit 97; }
	fi
	load_dropins
	exec "$@"
}

# load_dropins reads the environment drop-ins a login shell (profile.d) and a
# systemd service (environment.d) would read; PATH stays the caller's.
load_dropins() {
	local path=$PATH f
	set +u
	set -a
	for f in /etc/environment.d/*.conf; do [[ -r $f ]] && . "$f"; done
	set +a
	for f in /etc/profile.d/*.sh; do [[ -r $f ]] && . "$f"; done
	set -u
	export PATH=$path
}

if [[ ${1:-} == --inner ]]; then
	shift; inner "$@"
fi

cgroup="" hosts="" trust=""
while (($#)); do
	case $1 in
	--cgroup) cgroup=$2; shift 2 ;;
	--host) hosts+="$2"$'\n'; shift 2 ;;
	--trust-cmd) trust=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "sandbox: unknown option $1" >&2; exit 2 ;;
	esac
done
(($#)) || { echo "sandbox: no command given" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "sandbox: needs root (mount namespace, cgroup)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/airlock-sandbox.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [[ -n $cgroup ]]; then
	echo $$ >"$cgroup/cgroup.procs"
fi
SANDBOX_HOSTS=$hosts SANDBOX_TRUST=$trust \
	unshare --mount --propagation private -- "$0" --inner "$work" "$@"
