//go:build linux

package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeDebootstrap puts a debootstrap on PATH that runs script (sh) with the
// real one's arguments ($target: the second to last, before the mirror).
func fakeDebootstrap(t *testing.T, script string) {
	bin := t.TempDir()
	body := "#!/bin/sh\nset -e\nfor a; do target=$last; last=$a; done\n" + script + "\n"
	if err := os.WriteFile(filepath.Join(bin, "debootstrap"), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
}

func TestRootfsKeyIgnoresOrderAndDuplicates(t *testing.T) {
	a := rootfsKey("m", []string{"curl", "dbus", "curl"})
	if b := rootfsKey("m", []string{"dbus", "curl"}); a != b {
		t.Errorf("same set, different keys: %s %s", a, b)
	}
	if c := rootfsKey("m", []string{"dbus"}); c == a {
		t.Errorf("different package lists share key %s", a)
	}
	if d := rootfsKey("n", []string{"curl", "dbus"}); d == a || !strings.HasPrefix(d, "n-") {
		t.Errorf("name not in key: %s", d)
	}
}

// Parallel callers wait for one build and then share it.
func TestCachedRootfsBuildsOnceUnderConcurrency(t *testing.T) {
	count := filepath.Join(t.TempDir(), "count")
	fakeDebootstrap(t, `echo run >>`+count+`; sleep 0.3; mkdir -p "$target/etc"; echo 12 >"$target/etc/debian_version"`)
	cache := t.TempDir()
	var wg sync.WaitGroup
	dirs := make([]string, 4)
	for i := range dirs {
		wg.Go(func() {
			d, err := cachedRootfs(cache, "conc", []string{"curl"})
			if err != nil {
				t.Error(err)
			}
			dirs[i] = d
		})
	}
	wg.Wait()
	runs, _ := os.ReadFile(count)
	if n := strings.Count(string(runs), "run"); n != 1 {
		t.Errorf("debootstrap ran %d times, want 1", n)
	}
	for _, d := range dirs[1:] {
		if d != dirs[0] {
			t.Errorf("callers got different trees: %v", dirs)
		}
	}
	assertOnlyEntries(t, cache, filepath.Base(dirs[0]), filepath.Base(dirs[0])+".lock")
}

// A failed build says why, leaves no partial tree, and the next call builds.
func TestCachedRootfsFailureLeavesNothing(t *testing.T) {
	fakeDebootstrap(t, `mkdir -p "$target/var"; echo "E: Couldn't download packages: systemd" >&2; exit 1`)
	cache := t.TempDir()
	_, err := cachedRootfs(cache, "broken", nil)
	if err == nil || !strings.Contains(err.Error(), "Couldn't download packages: systemd") {
		t.Fatalf("error does not carry debootstrap's reason: %v", err)
	}
	assertOnlyEntries(t, cache, rootfsKey("broken", nil)+".lock")
}

func assertOnlyEntries(t *testing.T, dir string, want ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("cache holds %v, want %v", got, want)
	}
}

// RemoveTree must unmount before deleting: a bind mount of a directory
// with content inside the tree must come out intact.
func TestRemoveTreeUnmountsFirst(t *testing.T) {
	RequirePrivileged(t, "bind mounts")
	precious := t.TempDir()
	if err := os.WriteFile(filepath.Join(precious, "keep"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tree := t.TempDir()
	mp := filepath.Join(tree, "dev")
	if err := os.Mkdir(mp, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "--bind", precious, mp).CombinedOutput(); err != nil {
		t.Fatalf("bind mount: %v %s", err, out)
	}
	if err := RemoveTree(tree); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(precious, "keep")); err != nil {
		t.Fatalf("RemoveTree deleted through a bind mount: %v", err)
	}
	if _, err := os.Stat(tree); !os.IsNotExist(err) {
		t.Errorf("tree still exists: %v", err)
	}
}

// The real thing: debootstrap from this machine's mirror (cached after the
// first run), with every requested package installed.
func TestDebianRootfsInstallsPackages(t *testing.T) {
	dir := DebianRootfs(t, "machine", MachinePackages)
	status, err := os.ReadFile(filepath.Join(dir, "var/lib/dpkg/status"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range MachinePackages {
		if !strings.Contains(string(status), "Package: "+p+"\nStatus: install ok installed") {
			t.Errorf("package %s not installed in %s", p, dir)
		}
	}
	if again := DebianRootfs(t, "machine", MachinePackages); again != dir {
		t.Errorf("second call built elsewhere: %s, %s", dir, again)
	}
}
