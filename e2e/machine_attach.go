//go:build linux

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/airlock-dev/airlock/internal/testutil"
)

// airlockAttachTypes are the cgroup hooks airlockd attaches (intercept's loader).
var airlockAttachTypes = []struct {
	name string
	typ  ebpf.AttachType
}{
	{"connect4", ebpf.AttachCGroupInet4Connect}, {"connect6", ebpf.AttachCGroupInet6Connect},
	{"getpeername4", ebpf.AttachCgroupInet4GetPeername}, {"getpeername6", ebpf.AttachCgroupInet6GetPeername},
	{"sockops", ebpf.AttachCGroupSockOps},
}

// attachedAt lists, from the host, the programs attached directly to the
// cgroup directory cg for each hook airlockd uses ("connect4 prog 12 link 7"),
// sorted. Asked of the kernel (BPF_PROG_QUERY), not of the daemon: a second
// attachment shows up as a second line.
func attachedAt(t *testing.T, cg string) []string {
	t.Helper()
	f, err := os.Open(cg)
	if err != nil {
		t.Fatalf("opening cgroup %s: %v", cg, err)
	}
	defer f.Close()
	var out []string
	for _, h := range airlockAttachTypes {
		res, err := link.QueryPrograms(link.QueryOptions{Target: int(f.Fd()), Attach: h.typ})
		if err != nil {
			t.Fatalf("querying %s programs at %s: %v", h.name, cg, err)
		}
		for _, p := range res.Programs {
			id, _ := p.LinkID()
			out = append(out, fmt.Sprintf("%s prog %d link %d", h.name, p.ID, id))
		}
	}
	slices.Sort(out)
	return out
}

// requireAttachedOnce fails unless each hook has exactly one program at cg.
func requireAttachedOnce(t *testing.T, cg string) []string {
	t.Helper()
	got := attachedAt(t, cg)
	for _, h := range airlockAttachTypes {
		n := 0
		for _, line := range got {
			if strings.HasPrefix(line, h.name+" ") {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d %s programs attached at %s, want 1:\n%s", n, h.name, cg, strings.Join(got, "\n"))
		}
	}
	return got
}

// links are airlockd's pinned links in the machine, read from the host:
// hook name -> link ID and the ID of the program the link runs.
type links map[string][2]uint32

// pinnedLinks opens each pinned link under the machine's pin directory.
func pinnedLinks(t *testing.T, m *testutil.Machine) links {
	t.Helper()
	out := links{}
	for _, h := range airlockAttachTypes {
		path := filepath.Join(m.BPFFS(), "airlock", "link_"+h.name)
		lk, err := link.LoadPinnedLink(path, nil)
		if err != nil {
			t.Fatalf("opening pinned link %s: %v", path, err)
		}
		info, err := lk.Info()
		lk.Close()
		if err != nil {
			t.Fatalf("link info of %s: %v", path, err)
		}
		out[h.name] = [2]uint32{uint32(info.ID), uint32(info.Program)}
	}
	return out
}

// requireAdopted checks that the running daemon kept the links pinned before
// (same link IDs: adopted, not attached again) and that exactly one program
// per hook is attached at the machine's cgroup: the one those links run.
func requireAdopted(t *testing.T, m *testutil.Machine, before links) {
	t.Helper()
	after := pinnedLinks(t, m)
	attached := requireAttachedOnce(t, m.Cgroup())
	for _, h := range airlockAttachTypes {
		if after[h.name][0] != before[h.name][0] {
			t.Errorf("%s: link %d replaced by link %d: attached anew instead of adopting", h.name, before[h.name][0], after[h.name][0])
		}
		want := fmt.Sprintf("%s prog %d ", h.name, after[h.name][1])
		if !slices.ContainsFunc(attached, func(a string) bool { return strings.HasPrefix(a, want) }) {
			t.Errorf("%s: the pinned link runs prog %d, the cgroup has %q", h.name, after[h.name][1], attached)
		}
	}
}

// requireNoneOf fails if any of progs (lines from attachedAt) is attached
// at the host's cgroup2 root: the machine's daemon must attach to the
// machine's cgroup, a child of the host's root, and nowhere above it.
func requireNoneAtHostRoot(t *testing.T, hostRoot string, progs []string) {
	t.Helper()
	atRoot := attachedAt(t, hostRoot)
	for _, p := range progs {
		if slices.Contains(atRoot, p) {
			t.Fatalf("the machine's program %q is attached at the host's root cgroup %s", p, hostRoot)
		}
	}
}
