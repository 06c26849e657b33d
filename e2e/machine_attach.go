package e2e

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
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
