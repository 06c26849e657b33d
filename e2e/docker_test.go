package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/poll"
	"github.com/airlock-dev/airlock/internal/testutil"
)

// privateDocker is a dockerd of the test's own: its own data root, exec
// root and socket, and no say over the host's network (no bridge, no
// iptables, no masquerading).
type privateDocker struct {
	sock, dataRoot, execRoot string
	cmd                      *exec.Cmd
	log                      *syncBuffer
}

// newPrivateDocker picks the paths (the socket must be known before the
// daemon under test is configured); start starts dockerd.
func newPrivateDocker(t *testing.T) *privateDocker {
	t.Helper()
	_, err := exec.LookPath("dockerd")
	testutil.Require(t, err == nil, "dockerd is not installed (scripts/install-deps.sh test installs docker.io)")
	d := &privateDocker{dataRoot: t.TempDir(), execRoot: shortTempDir(t), log: &syncBuffer{}}
	d.sock = filepath.Join(d.execRoot, "docker.sock")
	return d
}

func (d *privateDocker) start(t *testing.T) {
	t.Helper()
	d.cmd = exec.Command("dockerd", "--data-root", d.dataRoot, "--exec-root", d.execRoot,
		"-H", "unix://"+d.sock, "--pidfile", filepath.Join(d.execRoot, "dockerd.pid"),
		"--iptables=false", "--ip6tables=false", "--bridge=none", "--ip-masq=false")
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("starting dockerd: %v", err)
	}
	t.Cleanup(func() { d.stop(t) })
	if poll.Until(context.Background(), 60*time.Second, func() (bool, error) { return d.docker(t, "version").Code == 0, nil }) != nil {
		t.Fatalf("dockerd did not answer within 60s:\n%s", d.log.String())
	}
}

// docker runs the docker CLI against the private engine (Debian's, not
// whatever else is on PATH).
func (d *privateDocker) docker(t *testing.T, args ...string) Result {
	t.Helper()
	res, err := runCmd(2*time.Minute, "/usr/bin/docker", append([]string{"-H", "unix://" + d.sock}, args...)...)
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, res.Stderr)
	}
	return res
}

// importRootfs makes an image from a directory tree, without any registry.
func (d *privateDocker) importRootfs(t *testing.T, rootfs, image string) {
	t.Helper()
	script := fmt.Sprintf("tar -C %s -c . | /usr/bin/docker -H unix://%s import - %s", shellQuote(rootfs), shellQuote(d.sock), shellQuote(image))
	if res, err := runCmd(5*time.Minute, "sh", "-c", script); err != nil || res.Code != 0 {
		t.Fatalf("docker import: %v %d\n%s", err, res.Code, res.Stderr)
	}
}

// stop removes every container, stops dockerd by its pid, and leaves no
// mount behind under its roots.
func (d *privateDocker) stop(t *testing.T) {
	if ids := strings.Fields(d.docker(t, "ps", "-aq").Stdout); len(ids) > 0 {
		d.docker(t, append([]string{"rm", "-f"}, ids...)...)
	}
	stopProcess(d.cmd)
	unmountLeftovers(t, "dockerd", d.dataRoot, d.execRoot)
}

// stopProcess ends an engine's process: SIGTERM, then SIGKILL after 30s.
func stopProcess(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// unmountLeftovers fails the test for each mount an engine left under its
// roots, and removes it.
func unmountLeftovers(t *testing.T, engine string, roots ...string) {
	for _, root := range roots {
		for _, m := range mountsUnder(root) {
			_ = syscall.Unmount(m, syscall.MNT_DETACH)
			t.Errorf("%s left a mount at %s", engine, m)
		}
	}
}

// mountsUnder lists mount points below dir, deepest first.
func mountsUnder(dir string) []string {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			out = append([]string{f[4]}, out...)
		}
	}
	return out
}

// removeV1Cgroups removes what dockerd (cgroupfs driver, cgroup v1) made
// for --cgroup-parent /name in every v1 hierarchy, deepest first.
func removeV1Cgroups(t *testing.T, name string) {
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", name))
	for _, top := range dirs {
		var all []string
		_ = filepath.WalkDir(top, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				all = append(all, p)
			}
			return nil
		})
		if strings.HasPrefix(top, "/sys/fs/cgroup/unified/") {
			all = all[1:] // the test's own cgroup: the harness removes it
		}
		for i := len(all) - 1; i >= 0; i-- {
			if err := os.Remove(all[i]); err != nil && !os.IsNotExist(err) {
				t.Errorf("removing cgroup %s: %v", all[i], err)
			}
		}
	}
}

// TestDockerContainer runs unmodified curl in a real Docker container with
// no network but its own loopback (--network none), where api.anthropic.com
// is 127.0.100.1 (--add-host): the request is intercepted, the upstream sees
// only the managed key and the masked prompt, and the audit names the
// container (id, name, image) and its namespace. After `airlock trust
// install --container` curl's own default trust verifies; after uninstall it
// no longer does.
func TestDockerContainer(t *testing.T) {
	h, d, image := dockerWorld(t, "")
	name := "airlock-e2e-" + randomSuffix()
	id := runContainer(t, h, d, image, name)
	cli := func(args ...string) Result { return d.docker(t, args...) }
	assertContainerIntercepted(t, h, cli, "docker", id, name, image)
	containerTrust(t, h, cli, name)
}

// assertContainerIntercepted: unmodified curl in the container (trusting
// the mounted CA) gets the answer, the upstream saw only the managed key
// and the masked prompt, and the audit names the container (id, name,
// image) and its namespace. cli runs the engine's CLI.
func assertContainerIntercepted(t *testing.T, h *Harness, cli func(args ...string) Result, engine, id, name, image string) {
	t.Helper()
	res := cli(append([]string{"exec", name, "curl", "--cacert", "/airlock-ca.pem"}, curlMessages(netnsPrompt)...)...)
	if res.Code != 0 || !strings.Contains(res.Stdout, `"type":"message"`) {
		t.Fatalf("curl in the %s container: exit %d\n%s\n%s\ndaemon:\n%s", engine, res.Code, res.Stdout, res.Stderr, h.Log())
	}
	h.AssertUpstreamGotOnlyManagedKey(t, 1, leakedCurlKey, fakeAnthropic)
	assertMaskedUpstream(t, h, 0)
	rec := h.LastAudit(t)
	assertNetnsAudit(t, rec, engine)
	if c := rec.Caller; c.Container != id || c.ContainerName != name || c.ContainerImage != image {
		t.Errorf("audit caller container %q name %q image %q, want %s %s %s", c.Container, c.ContainerName, c.ContainerImage, id, name, image)
	}
}

// containerTrust: curl with its default trust fails before trust install
// --container, verifies after it, and fails again after uninstall. cli runs
// the engine's CLI (docker, podman).
func containerTrust(t *testing.T, h *Harness, cli func(args ...string) Result, name string) {
	curl := append([]string{"exec", name, "curl"}, curlMessages(netnsPrompt)...)
	if res := cli(curl...); res.Code != 60 {
		t.Fatalf("curl with the image's own trust before install: exit %d, want 60 (certificate)\n%s", res.Code, res.Stderr)
	}
	if res := h.Airlock(t, "doctor", "--only", "ca", "--container", name); res.Code != 1 ||
		!strings.Contains(res.Stdout+res.Stderr, "trust install --container "+name) {
		t.Errorf("doctor --container before install: exit %d, want 1 naming the fix\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	if res := h.Airlock(t, "trust", "install", "--container", name); res.Code != 0 {
		t.Fatalf("airlock trust install --container: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	if res := cli(curl...); res.Code != 0 || !strings.Contains(res.Stdout, `"type":"message"`) {
		t.Fatalf("curl with its default trust after install: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if res := h.Airlock(t, "doctor", "--only", "ca", "--container", name); res.Code != 0 || !strings.Contains(res.Stdout, "the CA is in") {
		t.Errorf("doctor --container after install: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	if res := h.Airlock(t, "trust", "uninstall", "--container", name); res.Code != 0 {
		t.Fatalf("airlock trust uninstall --container: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	if res := cli(curl...); res.Code != 60 {
		t.Errorf("curl after uninstall: exit %d, want 60 (the CA removed again)", res.Code)
	}
}

// dockerWorld starts a private dockerd and airlockd (with extra containers
// config) and imports the cached Debian rootfs as an image.
func dockerWorld(t *testing.T, containersConfig string) (*Harness, *privateDocker, string) {
	d := newPrivateDocker(t)
	rootfs := testutil.DebianRootfs(t, "machine", testutil.MachinePackages)
	h := Start(t, Options{Config: fmt.Sprintf("capture: {containers: {sockets: [%s]%s}}\n", d.sock, containersConfig)})
	cg := filepath.Base(h.Cgroup)
	t.Cleanup(func() { removeV1Cgroups(t, cg) }) // registered first: runs after dockerd stopped
	d.start(t)
	image := "airlock-e2e/debian:" + randomSuffix()
	d.importRootfs(t, rootfs, image)
	return h, d, image
}

// runContainer starts a long-lived container with only its own loopback,
// the API host on a loopback target, inside the test's cgroup, and the CA
// mounted at /airlock-ca.pem; it returns the container id.
func runContainer(t *testing.T, h *Harness, d *privateDocker, image, name string) string {
	caFile := filepath.Join(h.StateDir, "ca", "ca.crt")
	run := d.docker(t, "run", "-d", "--name", name, "--network", "none", "--add-host", APIHost+":"+TargetAddr,
		"--cgroup-parent", "/"+filepath.Base(h.Cgroup), "-v", caFile+":/airlock-ca.pem:ro", image, "sleep", "600")
	if run.Code != 0 {
		t.Fatalf("docker run: %s\n%s", run.Stderr, d.log.String())
	}
	return strings.TrimSpace(run.Stdout)
}

// TestDockerTrustInject: with capture.containers.trust: inject, the daemon
// adds the CA to a container's own bundle when it first serves its
// namespace, so curl's default trust verifies without any step by hand, and
// the change is recorded for trust uninstall --container and audited.
func TestDockerTrustInject(t *testing.T) {
	hostBundle, _ := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	t.Cleanup(func() { // the runtime's init process shows the host's root for a moment
		if now, _ := os.ReadFile("/etc/ssl/certs/ca-certificates.crt"); !bytes.Equal(now, hostBundle) {
			t.Errorf("the host's CA bundle changed: inject wrote outside the container")
		}
	})
	h, d, image := dockerWorld(t, ", trust: inject")
	id := runContainer(t, h, d, image, "airlock-e2e-"+randomSuffix())
	curl := append([]string{"exec", id, "curl"}, curlMessages(netnsPrompt)...)
	var res Result
	for range 20 { // the injection races the first exec: bounded retries
		if res = d.docker(t, curl...); res.Code == 0 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if res.Code != 0 || !strings.Contains(res.Stdout, `"type":"message"`) {
		t.Fatalf("curl with its default trust under inject: exit %d\n%s\ndaemon:\n%s", res.Code, res.Stderr, h.Log())
	}
	h.AssertUpstreamGotOnlyManagedKey(t, 1, leakedCurlKey, fakeAnthropic)
	if _, err := os.Stat(filepath.Join(h.StateDir, "containers", "trust", id+".json")); err != nil {
		t.Errorf("no trust record for the injected container: %v", err)
	}
	if !h.LogContains("injected trust into a container") {
		t.Errorf("the daemon did not log the injection")
	}
	assertInjectionAudited(t, h, id, image)
}

// assertInjectionAudited: the injection is an audit record naming the
// container (id, name, image) and the bundle it changed inside it.
func assertInjectionAudited(t *testing.T, h *Harness, id, image string) {
	t.Helper()
	for _, rec := range h.Audit(t) {
		if rec.Decision != "trust_injected" {
			continue
		}
		c := rec.Caller
		if c.Container != id || c.ContainerName == "" || c.ContainerImage != image || c.Netns == 0 ||
			!strings.Contains(rec.Reason, "/etc/ssl/certs/ca-certificates.crt") {
			t.Errorf("injection audit %+v (reason %q): want container %s, its name, image %s, netns and the bundle changed", c, rec.Reason, id, image)
		}
		return
	}
	t.Errorf("no trust_injected audit record for container %s", id)
}
