package admin

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/testutil"
)

const clientEnv = "AIRLOCK_ADMIN_TEST_CLIENT"

// TestAdminClientHelper is not a test on its own: re-executed under another
// uid with clientEnv set, it calls the API and prints the outcome.
func TestAdminClientHelper(t *testing.T) {
	sock := os.Getenv(clientEnv)
	if sock == "" {
		t.Skip("helper process for TestPeerCredentials")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := NewClient(sock).Approvals(ctx); err != nil {
		fmt.Println("ERR", err)
	} else {
		fmt.Println("OK")
	}
	os.Exit(0)
}

// runClientAs runs the helper as uid:gid and returns what it printed.
func runClientAs(t *testing.T, f *fixture, uid, gid uint32, groups ...uint32) string {
	t.Helper()
	bin := filepath.Join(f.dir, "admin.test")
	copyExecutable(t, os.Args[0], bin)
	cmd := exec.Command(bin, "-test.run=^TestAdminClientHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), clientEnv+"="+f.srv.cfg.SocketPath)
	cmd.Dir = f.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid, Groups: append([]uint32{}, groups...)}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("client as uid %d: %v\n%s", uid, err, out)
	}
	return string(out)
}

func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	if _, err := os.Stat(to); err == nil {
		return
	}
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPeerCredentials(t *testing.T) {
	testutil.RequirePrivileged(t, "runs admin clients as other uids")
	// Mode 0666 so the filesystem lets everyone connect: the refusal below is SO_PEERCRED's doing.
	f := newFixture(t, ServerConfig{Group: "4242", SocketMode: 0o666})
	out := runClientAs(t, f, 65534, 65534)
	if !strings.Contains(out, "ERR admin API: 403") || !strings.Contains(out, "uid 65534 is neither root nor a member of group 4242") {
		t.Fatalf("nobody outside the group: %s", out)
	}
	if out := runClientAs(t, f, 65534, 4242); !strings.Contains(out, "OK") {
		t.Fatalf("nobody with the admin group as primary group: %s", out)
	}
	if out := runClientAs(t, f, 65534, 65534, 4242); !strings.Contains(out, "OK") {
		t.Fatalf("nobody with the admin group as a supplementary group: %s", out)
	}
}

func TestDefaultSocketModeKeepsOthersOut(t *testing.T) {
	testutil.RequirePrivileged(t, "runs an admin client as another uid")
	f := newFixture(t, ServerConfig{})
	st, err := os.Stat(f.srv.cfg.SocketPath)
	if err != nil || st.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode = %v, %v", st.Mode(), err)
	}
	if out := runClientAs(t, f, 65534, 65534); !strings.Contains(out, "ERR") || strings.Contains(out, "OK") {
		t.Fatalf("nobody reached a 0660 root socket: %s", out)
	}
}
