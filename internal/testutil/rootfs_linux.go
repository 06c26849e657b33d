//go:build linux

package testutil

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultRootfsCache is where DebianRootfs keeps its trees: outside any
// checkout, so every worktree and every run on this machine shares them.
// AIRLOCK_ROOTFS_CACHE overrides it.
const DefaultRootfsCache = "/var/cache/airlock-test/rootfs"

// debianSuite is the release every test rootfs is made from (the release
// the project supports and CI runs on).
const debianSuite = "bookworm"

// MachinePackages is the package list of the systemd machine the install
// tests boot: systemd as PID 1 with a bus, and the clients and tools the
// tests run inside it. Tests that need a plain Debian userland may use the
// same list to share the cached tree.
var MachinePackages = []string{"systemd", "systemd-sysv", "dbus", "ca-certificates", "curl", "iproute2"}

// debootstrapTimeout bounds one build: a first build takes about a minute
// on a good mirror; past this something is wrong and waiting does not help.
const debootstrapTimeout = 15 * time.Minute

// DebianRootfs returns the path of a Debian 12 root filesystem made with
// `debootstrap --variant=minbase --include=<packages> bookworm`. It is built
// once per machine and cached under DefaultRootfsCache in a directory named
// after name and a hash of the package list; concurrent callers (parallel
// tests, other test binaries) wait on a file lock while one of them builds.
// A build lands atomically (temporary directory, then rename), so a cached
// tree is always complete. Treat the result as read-only: overlay or copy
// it. Skips (or fails under AIRLOCK_REQUIRE_PRIVILEGED=1) without root or
// debootstrap.
func DebianRootfs(tb testing.TB, name string, packages []string) string {
	tb.Helper()
	RequirePrivileged(tb, "building a Debian rootfs with debootstrap")
	_, err := exec.LookPath("debootstrap")
	Require(tb, err == nil, "debootstrap is not installed (scripts/install-deps.sh installs it)")
	dir, err := cachedRootfs(rootfsCache(), name, packages)
	if err != nil {
		tb.Fatalf("debian rootfs %q: %v", name, err)
	}
	return dir
}

func rootfsCache() string {
	if d := os.Getenv("AIRLOCK_ROOTFS_CACHE"); d != "" {
		return d
	}
	return DefaultRootfsCache
}

// rootfsKey names a tree by its caller's name and everything that decides
// its content, so a changed package list builds a new tree.
func rootfsKey(name string, packages []string) string {
	pkgs := slices.Clone(packages)
	slices.Sort(pkgs)
	pkgs = slices.Compact(pkgs)
	sum := sha256.Sum256([]byte(strings.Join(append([]string{debianSuite, "minbase", name}, pkgs...), "\n")))
	return name + "-" + hex.EncodeToString(sum[:8])
}

func cachedRootfs(cache, name string, packages []string) (string, error) {
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("creating cache %s: %w", cache, err)
	}
	dir := filepath.Join(cache, rootfsKey(name, packages))
	unlock, err := lockFile(dir + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(filepath.Join(dir, "etc/debian_version")); err == nil {
		return dir, nil
	}
	if err := removeStaleBuilds(dir); err != nil {
		return "", err
	}
	return dir, buildRootfs(dir, packages)
}

// lockFile takes an exclusive flock on path, waiting for whoever holds it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { _ = unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
}

// removeStaleBuilds deletes what a killed build left (we hold the lock, so
// nobody else is building this tree).
func removeStaleBuilds(dir string) error {
	stale, _ := filepath.Glob(dir + ".tmp-*")
	if _, err := os.Stat(dir); err == nil {
		stale = append(stale, dir) // no etc/debian_version: incomplete
	}
	for _, d := range stale {
		if err := RemoveTree(d); err != nil {
			return err
		}
	}
	return nil
}

func buildRootfs(dir string, packages []string) error {
	tmp := dir + ".tmp-" + RandomName("")
	if err := debootstrap(tmp, packages); err != nil {
		return errors.Join(err, RemoveTree(tmp))
	}
	if err := os.Rename(tmp, dir); err != nil {
		return errors.Join(fmt.Errorf("renaming %s: %w", tmp, err), RemoveTree(tmp))
	}
	return nil
}

func debootstrap(target string, packages []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), debootstrapTimeout)
	defer cancel()
	args := []string{"--variant=minbase"}
	if len(packages) > 0 {
		args = append(args, "--include="+strings.Join(packages, ","))
	}
	mirror := DebianMirror()
	args = append(args, debianSuite, target, mirror)
	out, err := exec.CommandContext(ctx, "debootstrap", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("debootstrap %s from %s: %w\n%s", strings.Join(args, " "), mirror, err, tail(out, 30))
	}
	return nil
}

// tail returns the last n lines of out: where debootstrap says what failed.
func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// DebianMirror returns the Debian mirror this machine's apt uses (the
// first URIs of /etc/apt/sources.list.d/debian.sources, or the first deb
// line of /etc/apt/sources.list), or deb.debian.org. AIRLOCK_DEBIAN_MIRROR
// overrides it.
func DebianMirror() string {
	if m := os.Getenv("AIRLOCK_DEBIAN_MIRROR"); m != "" {
		return m
	}
	if b, err := os.ReadFile("/etc/apt/sources.list.d/debian.sources"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "URIs:"); ok && len(strings.Fields(v)) > 0 {
				return strings.Fields(v)[0]
			}
		}
	}
	if b, err := os.ReadFile("/etc/apt/sources.list"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[0] == "deb" && !strings.HasPrefix(f[1], "[") {
				return f[1]
			}
		}
	}
	return "http://deb.debian.org/debian"
}
