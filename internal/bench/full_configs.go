package bench

import (
	"context"
	"runtime/debug"
	"slices"
	"strings"
)

// startAirlocks starts (b) airlockd through the eBPF capture, with masking and
// audit on, and (c) the same data path with masking off (audit stays on).
func (f *full) startAirlocks(ctx context.Context) {
	if f.opts.wants(AirlockTarget) && !f.startDaemon(ctx) {
		f.startInproc(ctx, AirlockTarget, "airlockd's assembly (internal/daemon: TLS, gateway, policy, masking, audit) in its own process behind a plain listener: NOT the eBPF capture path (airlockd unavailable, see notes)", true)
	}
	if f.opts.wants("airlock-lean") {
		f.startInproc(ctx, "airlock-lean", "airlockd's assembly (internal/daemon) with every masking detector but the managed key's switched off (audit stays on), in its own process behind a plain listener", false)
	}
}

func (f *full) startDaemon(ctx context.Context) bool {
	if f.opts.Airlockd == "" {
		f.note("no airlockd binary given (-airlockd): the capture path was not measured")
		return false
	}
	d, err := StartAirlockd(ctx, f.opts.Airlockd, f.env)
	if err != nil {
		f.note("airlockd did not start: %v", err)
		return false
	}
	f.closers = append(f.closers, func() { d.Close() })
	t := Target{Name: AirlockTarget, Label: "airlockd through the eBPF capture path (client dials " + TargetAddr + " from a captured cgroup): key substitution, policy, masking and audit on",
		Addr: TargetAddr, Key: EmbeddedKey, PIDs: pidsOf(d.Proc), Enter: d.Enter}
	if !f.add(ctx, t, d.Proc, d.CAFile) {
		return false
	}
	f.daemon = d
	f.command(strings.Join(DeployedEnv, " ") + " " + d.Command + " &   # captured cgroup " + d.Cgroup)
	f.startNetns(ctx, d)
	f.rep.Versions["airlockd"] = treeVersion()
	return true
}

// NetnsTargetName is the capture path taken from a container's network
// namespace: the same daemon as AirlockTarget, reached from another namespace.
const NetnsTargetName = "airlock-netns"

// startNetns adds the container's connection next to the host process's.
func (f *full) startNetns(ctx context.Context, d *Airlockd) {
	if !f.opts.wants(NetnsTargetName) {
		return
	}
	n, err := StartNetnsTarget(ctx, d.Cgroup)
	if err != nil {
		f.note("%s left out: %v", NetnsTargetName, err)
		return
	}
	f.closers = append(f.closers, n.Close)
	f.add(ctx, Target{Name: NetnsTargetName, Label: "the same airlockd, the client in a network namespace of its own (loopback only, as a container under --network none) dialling " +
		TargetAddr + ": redirected to the listener airlockd opened inside that namespace", Addr: TargetAddr, Key: EmbeddedKey,
		Enter: d.Enter, Dial: n.Dial(TargetAddr)}, d.Proc, d.CAFile)
	f.command("unshare -n sh -c 'ip link set lo up && exec sleep 86400' &   # in " + d.Cgroup + "; the client's sockets are made in its namespace")
}

// startInproc runs `airlock-bench serve-airlock` as its own process.
func (f *full) startInproc(ctx context.Context, name, label string, masking bool) {
	addr, err := FreePort()
	if err != nil {
		f.note("%s left out: %v", name, err)
		return
	}
	dir := f.opts.Dir + "/" + name
	argv := []string{f.opts.Self, "serve-airlock", "-listen", addr, "-dir", dir, "-upstream", f.env.Upstream,
		"-upstream-ca", f.env.UpstreamCA, "-key", ManagedKey, "-no-masking=" + map[bool]string{true: "false", false: "true"}[masking]}
	p, err := StartProc(f.opts.Dir, name, DeployedEnv, argv...)
	if err != nil {
		f.note("%s left out: %v", name, err)
		return
	}
	f.procs = append(f.procs, p)
	if waitFile(ctx, p, dir+"/airlock-ca.pem") == nil {
		f.add(ctx, Target{Name: name, Label: label, Addr: addr, Key: EmbeddedKey, PIDs: pidsOf(p)}, p, dir+"/airlock-ca.pem")
	}
	f.command(strings.Join(append(slices.Clone(DeployedEnv), argv...), " ") + " &")
}

// startPeers starts nginx and mitmproxy, when installed.
func (f *full) startPeers(ctx context.Context) {
	peers := []struct {
		name, program, label string
		start                func(PeerEnv, string) (*Proc, string, error)
		ca                   string
		version              []string
	}{
		{"nginx", "nginx", "nginx terminating TLS, proxy_set_header swapping the credential, keep-alive HTTP/1.1 upstream", StartNginx, f.env.PeerCA, []string{"nginx", "-v"}},
		{"mitmproxy", "mitmdump", "mitmdump in reverse-proxy mode with a 10-line addon swapping the credential (SSE streamed)", StartMitmproxy, MitmCA(f.env), []string{"mitmdump", "--version"}},
	}
	for _, p := range peers {
		switch {
		case !f.opts.wants(p.name):
		case !lookPath(p.program):
			f.note("%s is not installed: left out", p.name)
		default:
			f.startPeer(ctx, p.name, p.label, p.start, p.ca)
			f.rep.Versions[p.name] = version(p.version...)
		}
	}
}

func (f *full) startPeer(ctx context.Context, name, label string, start func(PeerEnv, string) (*Proc, string, error), ca string) {
	addr, err := FreePort()
	if err == nil {
		var p *Proc
		var cmd string
		if p, cmd, err = start(f.env, addr); err == nil {
			f.procs = append(f.procs, p)
			f.command(cmd + " &")
			if waitFile(ctx, p, ca) == nil {
				f.add(ctx, Target{Name: name, Label: label, Addr: addr, Key: EmbeddedKey, PIDs: pidsOf(p)}, p, ca)
			}
			return
		}
	}
	f.note("%s left out: %v", name, err)
}

// measureConnect compares connect() inside and outside the captured cgroup.
func (f *full) measureConnect() {
	if f.daemon == nil {
		return
	}
	res, err := MeasureConnect(200000, max(f.opts.Runs, 3), f.daemon.Enter)
	if err != nil {
		f.note("connect() measurement failed: %v", err)
		return
	}
	res.AttachedWhere, res.DetachedWhere = "inside airlockd's captured cgroup", "this process's own cgroup (no Airlock programs)"
	f.rep.Connect = res
}

// treeVersion is the commit this benchmark (and airlockd, built by the same
// make bench from the same tree) was built from.
func treeVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "unknown commit", ""
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 12:
			rev = "commit " + s.Value[:12]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = " (with uncommitted changes)"
		}
	}
	return rev + dirty + ", built with " + info.GoVersion
}
