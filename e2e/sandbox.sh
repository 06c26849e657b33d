#!/usr/bin/env bash
# sandbox.sh runs one unmodified client the way Airlock's demo and end-to-end
# tests need it, without changing the host:
#   - inside a child cgroup (--cgroup), so the eBPF redirect attached there applies;
#   - inside a private mount namespace whose /etc and /usr/local/share (where the trust store lives)
#     are overlays on a temporary directory, so the host's files stay untouched;
#   - with host names pinned in that namespace's /etc/hosts (--host "ADDR NAME"),
#     e.g. api.anthropic.com -> 127.0.100.1, a loopback target;
#   - trusting Airlock's CA only through what `airlock trust install` provisions
#     (--trust-cmd): the client starts from an empty environment plus the
#     drop-ins that install wrote, as a fresh login shell or service would;
#     --env NAME=VALUE adds a variable on top.
# Trust provisioning runs update-ca-certificates, which takes seconds: to pay
# it once, `--prepare DIR` keeps the overlays' changes (hosts, trust) in DIR
# and runs no command; later runs with `--layer DIR` start from that layer.
# Usage: sandbox.sh [--cgroup DIR] [--host "ADDR NAME"]... [--trust-cmd CMD]
#                   [--env NAME=VALUE]... [--layer DIR] -- COMMAND [ARG]...
#        sandbox.sh --prepare DIR [--host "ADDR NAME"]... [--trust-cmd CMD]
# The command's exit status is the script's (97: trust install failed).
set -euo pipefail

# inner runs in the private mount namespace: overlays, hosts, trust, then the client.
inner() {
	local work=$1; shift
	local d name lower
	for d in /etc /usr/local/share; do
		[[ -d $d ]] || continue
		name=$(tr / _ <<<"$d")
		lower=$d
		[[ -n ${SANDBOX_LAYER:-} ]] && lower="$SANDBOX_LAYER/$name.upper:$d"
		mkdir -p "$work/$name.upper" "$work/$name.work"
		mount -t overlay "airlock-sandbox$name" \
			-o "lowerdir=$lower,upperdir=$work/$name.upper,workdir=$work/$name.work" "$d"
	done
	# update-ca-certificates' hooks (ca-certificates-java) run dpkg triggers,
	# which write dpkg's state under /var on the host: hide them. Java trust
	# is provisioned by airlock itself through keytool.
	if [[ -d /etc/ca-certificates/update.d ]]; then
		mount -t tmpfs -o size=1m airlock-sandbox-hooks /etc/ca-certificates/update.d
	fi
	if [[ -n ${SANDBOX_HOSTS:-} ]]; then
		printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n%s' "$SANDBOX_HOSTS" >/etc/hosts
	fi
	if [[ -n ${SANDBOX_TRUST:-} ]] && ! sh -c "$SANDBOX_TRUST" >"$work/trust.log" 2>&1; then
		cat "$work/trust.log" >&2
		echo "sandbox: trust install failed: $SANDBOX_TRUST" >&2
		exit 97
	fi
	[[ -n ${SANDBOX_PREPARE:-} ]] && exit 0
	local extra=()
	[[ -n ${SANDBOX_ENV:-} ]] && mapfile -t extra <<<"${SANDBOX_ENV%$'\n'}"
	exec env -i PATH="$PATH" HOME="${HOME:-/root}" USER="${USER:-root}" LANG=C.UTF-8 TERM="${TERM:-dumb}" \
		SANDBOX_EXTRA="${SANDBOX_ENV:-}" "$0" --client "$@"
}

# client reads the environment drop-ins a systemd service (environment.d) and a
# login shell (profile.d) would read, then becomes the client.
client() {
	local f path=$PATH
	set +u -a
	for f in /etc/environment.d/*.conf; do [[ -r $f ]] && . "$f"; done
	set +a
	for f in /etc/profile.d/*.sh; do [[ -r $f ]] && . "$f"; done
	set -u
	export PATH=$path
	if [[ -n $SANDBOX_EXTRA ]]; then
		while IFS= read -r kv; do [[ -n $kv ]] && export "$kv"; done <<<"$SANDBOX_EXTRA"
	fi
	unset SANDBOX_EXTRA f
	exec "$@"
}

case ${1:-} in
--inner) shift; inner "$@" ;;
--client) shift; client "$@" ;;
esac

cgroup="" hosts="" trust="" envs="" layer="" prepare=""
while (($#)); do
	case $1 in
	--layer) layer=$2; shift 2 ;;
	--prepare) prepare=$2; shift 2 ;;
	--cgroup) cgroup=$2; shift 2 ;;
	--host) hosts+="$2"$'\n'; shift 2 ;;
	--trust-cmd) trust=$2; shift 2 ;;
	--env) envs+="$2"$'\n'; shift 2 ;;
	--) shift; break ;;
	*) echo "sandbox: unknown option $1" >&2; exit 2 ;;
	esac
done
[[ $(id -u) == 0 ]] || { echo "sandbox: needs root (mount namespace, cgroup)" >&2; exit 2; }
if [[ -n $prepare ]]; then
	mkdir -p "$prepare"
	SANDBOX_HOSTS=$hosts SANDBOX_TRUST=$trust SANDBOX_PREPARE=1 \
		exec unshare --mount --propagation private -- "$0" --inner "$prepare"
fi
(($#)) || { echo "sandbox: no command given" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/airlock-sandbox.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [[ -n $cgroup ]]; then
	echo $$ >"$cgroup/cgroup.procs"
fi
rc=0
SANDBOX_HOSTS=$hosts SANDBOX_TRUST=$trust SANDBOX_ENV=$envs SANDBOX_LAYER=$layer \
	unshare --mount --propagation private -- "$0" --inner "$work" "$@" || rc=$?
exit $rc
