package testutil

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Postgres is a real PostgreSQL server from Debian's postgresql package,
// private to one test: its own data directory, a loopback port, run by the
// unprivileged postgres user, stopped and removed at cleanup.
type Postgres struct {
	Dir  string // data directory
	Port int
	URL  string // postgres://airlock@127.0.0.1:PORT/airlock?sslmode=disable
	bin  string
	uid  uint32
	gid  uint32
}

// StartPostgres initialises and starts a server for tb.
func StartPostgres(tb testing.TB) *Postgres {
	tb.Helper()
	RequirePrivileged(tb, "runs PostgreSQL as the postgres user")
	bin := postgresBin(tb)
	u, err := user.Lookup("postgres")
	if err != nil {
		tb.Fatalf("no postgres user (install Debian's postgresql package): %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	root, err := os.MkdirTemp("", "airlock-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(root) })
	p := &Postgres{Dir: filepath.Join(root, "data"), Port: freePort(tb), bin: bin, uid: uint32(uid), gid: uint32(gid)}
	os.Chown(root, uid, gid)
	p.run(tb, "initdb", "-D", p.Dir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
	p.Start(tb)
	tb.Cleanup(func() { p.Stop(tb) })
	for _, sql := range []string{"CREATE ROLE airlock LOGIN", "CREATE DATABASE airlock OWNER airlock"} {
		p.run(tb, "psql", "-h", "127.0.0.1", "-p", strconv.Itoa(p.Port), "-U", "postgres", "-q", "-c", sql)
	}
	p.URL = fmt.Sprintf("postgres://airlock@127.0.0.1:%d/airlock?sslmode=disable", p.Port)
	return p
}

// Start starts (or restarts) the server and waits until it accepts connections.
func (p *Postgres) Start(tb testing.TB) {
	tb.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s -c fsync=off",
		p.Port, filepath.Dir(p.Dir))
	p.run(tb, "pg_ctl", "-D", p.Dir, "-o", opts, "-l", filepath.Join(filepath.Dir(p.Dir), "log"), "-w", "-t", "60", "start")
}

// Stop stops the server at once (clients see their connections cut, as in
// an outage); stopping a stopped server is not an error.
func (p *Postgres) Stop(tb testing.TB) {
	tb.Helper()
	cmd := p.command("pg_ctl", "-D", p.Dir, "-m", "immediate", "-w", "stop")
	if out, err := cmd.CombinedOutput(); err != nil && !strings.Contains(string(out), "Is server running?") {
		tb.Logf("pg_ctl stop: %v\n%s", err, out)
	}
}

// Psql runs one SQL statement as the superuser and returns its unaligned output.
func (p *Postgres) Psql(tb testing.TB, sql string) string {
	tb.Helper()
	return p.run(tb, "psql", "-h", "127.0.0.1", "-p", strconv.Itoa(p.Port), "-U", "postgres", "-d", "airlock",
		"-At", "-v", "ON_ERROR_STOP=1", "-c", sql)
}

func (p *Postgres) run(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	out, err := p.command(name, args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (p *Postgres) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	cmd.SysProcAttr = asUser(p.uid, p.gid)
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", "PGCONNECT_TIMEOUT=5"}
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// postgresBin finds the server binaries of the installed major version.
func postgresBin(tb testing.TB) string {
	tb.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i]
		}
	}
	tb.Fatal("no PostgreSQL server under /usr/lib/postgresql (scripts/install-deps.sh installs Debian's postgresql)")
	return ""
}

// freePort asks the kernel for a free loopback port.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func asUser(uid, gid uint32) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}, Setpgid: true}
}
