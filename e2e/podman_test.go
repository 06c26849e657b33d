package e2e

import (
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

// privatePodman is rootful podman with storage, run root and temporary
// files of the test's own, the cgroupfs manager (PID 1 is not systemd) and
// file events (no journald); its Docker-compatible API service answers on a
// socket of its own, for the daemon to name containers.
type privatePodman struct {
	root, runRoot, tmp, sock string
	service                  *exec.Cmd
	log                      *syncBuffer
}

func newPrivatePodman(t *testing.T) *privatePodman {
	t.Helper()
	_, err := exec.LookPath("podman")
	testutil.Require(t, err == nil, "podman is not installed (scripts/install-deps.sh test installs it)")
	p := &privatePodman{root: t.TempDir(), runRoot: shortTempDir(t), tmp: t.TempDir(), log: &syncBuffer{}}
	p.sock = filepath.Join(p.runRoot, "podman.sock")
	return p
}

func (p *privatePodman) args(args ...string) []string {
	return append([]string{"--root", p.root, "--runroot", p.runRoot, "--tmpdir", p.tmp,
		"--network-config-dir", p.tmp, "--cgroup-manager", "cgroupfs", "--events-backend", "file"}, args...)
}

// podmanLeftovers are what podman writes outside its private roots
// whatever its flags say: the image copy's blob cache. Removed after the
// test when the test created them.
var podmanLeftovers = []string{"/var/lib/containers", "/etc/cni/net.d/cni.lock"}

func leaveAsFound(t *testing.T, paths []string) {
	for _, p := range paths {
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			t.Cleanup(func() { _ = os.RemoveAll(p) })
		}
	}
}

// podman runs the CLI against the private storage.
func (p *privatePodman) podman(t *testing.T, args ...string) Result {
	t.Helper()
	res, err := runCmd(3*time.Minute, "/usr/bin/podman", p.args(args...)...)
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, res.Stderr)
	}
	return res
}

// start runs the API service (no idle timeout) and waits for it to answer.
func (p *privatePodman) start(t *testing.T) {
	t.Helper()
	p.service = exec.Command("/usr/bin/podman", p.args("system", "service", "--time=0", "unix://"+p.sock)...)
	p.service.Stdout, p.service.Stderr = p.log, p.log
	p.service.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.service.Start(); err != nil {
		t.Fatalf("starting podman system service: %v", err)
	}
	t.Cleanup(func() { p.stop(t) })
	up := func() (bool, error) { _, err := os.Stat(p.sock); return err == nil, nil }
	if poll.Until(context.Background(), 60*time.Second, up) != nil {
		t.Fatalf("podman system service did not listen within 60s:\n%s", p.log.String())
	}
}

// stop removes every container and image, stops the service by its pid,
// and leaves no mount behind under the private roots.
func (p *privatePodman) stop(t *testing.T) {
	p.podman(t, "rm", "-af", "-t", "0")
	p.podman(t, "rmi", "-af")
	stopProcess(p.service)
	unmountLeftovers(t, "podman", p.root, p.runRoot, p.tmp)
}

// TestPodmanContainer is TestDockerContainer with rootful podman: unmodified
// curl in a container with only its own loopback (--network none) is
// intercepted, the upstream sees only the managed key and the masked
// prompt, the audit names the container (id, name, image) and its
// namespace, and trust install --container makes curl's own trust verify.
// No CNI bridge is made and none is left.
func TestPodmanContainer(t *testing.T) {
	links := hostLinks(t)
	leaveAsFound(t, podmanLeftovers)
	p := newPrivatePodman(t)
	rootfs := testutil.DebianRootfs(t, "machine", testutil.MachinePackages)
	h := Start(t, Options{Config: fmt.Sprintf("capture: {containers: {sockets: [%s]}}\n", p.sock)})
	cg := filepath.Base(h.Cgroup)
	t.Cleanup(func() { removeV1Cgroups(t, cg) }) // registered first: runs after podman stopped
	p.start(t)
	image := "localhost/airlock-e2e/debian:" + randomSuffix()
	script := fmt.Sprintf("tar -C %s -c . | /usr/bin/podman %s import - %s", shellQuote(rootfs),
		strings.Join(quoteAll(p.args()), " "), shellQuote(image))
	if res, err := runCmd(5*time.Minute, "sh", "-c", script); err != nil || res.Code != 0 {
		t.Fatalf("podman import: %v %d\n%s", err, res.Code, res.Stderr)
	}
	name := "airlock-e2e-" + randomSuffix()
	id := runPodman(t, h, p, image, name)
	cli := func(args ...string) Result { return p.podman(t, args...) }
	assertContainerIntercepted(t, h, cli, "podman", id, name, image)
	containerTrust(t, h, cli, name)
	if now := hostLinks(t); now != links {
		t.Errorf("host interfaces changed under podman: %q, were %q", now, links)
	}
}

// runPodman starts a long-lived container as runContainer does for Docker.
// The limits are set explicitly: podman raises nproc and nofile by default,
// which needs CAP_SYS_RESOURCE, and these machines' root lacks it.
func runPodman(t *testing.T, h *Harness, p *privatePodman, image, name string) string {
	caFile := filepath.Join(h.StateDir, "ca", "ca.crt")
	run := p.podman(t, "run", "-d", "--name", name, "--network", "none", "--add-host", APIHost+":"+TargetAddr,
		"--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096",
		"--cgroup-parent", "/"+filepath.Base(h.Cgroup), "-v", caFile+":/airlock-ca.pem:ro", image, "sleep", "600")
	if run.Code != 0 {
		t.Fatalf("podman run: %s\n%s", run.Stderr, p.log.String())
	}
	return strings.TrimSpace(run.Stdout)
}

// hostLinks lists the host's network interfaces (names only).
func hostLinks(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			names = append(names, strings.TrimSuffix(f[1], ":"))
		}
	}
	return strings.Join(names, " ")
}
