package trust

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"
)

// CheckConfig configures the doctor's per-runtime trust checks.
type CheckConfig struct {
	// Certificate is a leaf for Host signed by the Airlock CA
	// (tlsmitm.Authority.IssueLeaf), served by the loopback test endpoint.
	Certificate *tls.Certificate
	Host        string        // the API host name the runtimes ask for, e.g. api.anthropic.com
	Root        string        // where the profile.d drop-in is read ("/" when empty)
	Env         []string      // base environment (os.Environ() when nil)
	Timeout     time.Duration // per runtime (20s when zero)
	// Runtimes limits the check to these names (Runtimes()); nil checks all.
	Runtimes []string
}

// Runtimes names every runtime Check knows, in the order it checks them.
func Runtimes() []string {
	var names []string
	for _, rc := range runtimeChecks() {
		names = append(names, rc.name)
	}
	return names
}

// Result is one runtime's verdict.
type Result struct {
	Runtime string `json:"runtime"`
	Binary  string `json:"binary,omitempty"`
	Present bool   `json:"present"`
	OK      bool   `json:"ok"`
	Detail  string `json:"detail,omitempty"`
	Fix     string `json:"fix,omitempty"`
}

// runtimeCheck does one handshake with one runtime against addr.
type runtimeCheck struct {
	name  string
	bin   string
	fix   string
	check func(ctx context.Context, c checkRun) error
}

// checkRun is what a runtime check needs to know.
type checkRun struct {
	bin, host string
	port      int
	env       []string
}

// Check starts a loopback TLS endpoint serving cfg.Certificate and has each
// runtime present (curl, node, python3, Go, java) connect to it as cfg.Host,
// with the environment a login shell gets from the profile.d drop-in.
func Check(ctx context.Context, cfg CheckConfig) ([]Result, error) {
	if cfg.Certificate == nil || cfg.Host == "" {
		return nil, errors.New("trust check: Certificate and Host are required")
	}
	cfg = checkDefaults(cfg)
	ln, err := serveTestEndpoint(cfg.Certificate)
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	env := loginEnv(cfg.Env, filepath.Join(cfg.Root, profileDropIn))
	run := checkRun{host: cfg.Host, port: ln.Addr().(*net.TCPAddr).Port, env: env}
	var results []Result
	for _, rc := range runtimeChecks() {
		if cfg.Runtimes != nil && !containsStr(cfg.Runtimes, rc.name) {
			continue
		}
		results = append(results, runOne(ctx, cfg.Timeout, rc, run))
	}
	return results, nil
}

func checkDefaults(cfg CheckConfig) CheckConfig {
	if cfg.Root == "" {
		cfg.Root = "/"
	}
	if cfg.Env == nil {
		cfg.Env = os.Environ()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 20 * time.Second
	}
	return cfg
}

func runOne(ctx context.Context, timeout time.Duration, rc runtimeCheck, run checkRun) Result {
	r := Result{Runtime: rc.name}
	if rc.bin != "" {
		bin, err := lookPathIn(rc.bin, run.env)
		if err != nil {
			r.Detail = "not installed"
			return r
		}
		r.Binary, run.bin = bin, bin
	}
	r.Present = true
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := rc.check(ctx, run); err != nil {
		r.Detail, r.Fix = err.Error(), rc.fix
		return r
	}
	r.OK = true
	return r
}

// serveTestEndpoint answers every HTTPS request with 200 on 127.0.0.1.
func serveTestEndpoint(cert *tls.Certificate) (net.Listener, error) {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{*cert},
		NextProtos:   []string{"http/1.1"},
	})
	if err != nil {
		return nil, fmt.Errorf("starting trust test endpoint: %w", err)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("airlock-doctor-ok\n")) }),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          zap.NewStdLog(zap.NewNop()), // a client that hangs up is not news
	}
	go srv.Serve(ln)
	return ln, nil
}

// trustVars are the variables a login shell takes from our drop-in; the
// caller's own values are dropped so the check reflects provisioning only.
var trustVars = []string{"NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"}

// loginEnv is base without trustVars, plus the exports of the drop-in.
func loginEnv(base []string, dropIn string) []string {
	var env []string
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if !containsStr(trustVars, name) {
			env = append(env, kv)
		}
	}
	b, err := os.ReadFile(dropIn)
	if err != nil {
		return env
	}
	for _, line := range strings.Split(string(b), "\n") {
		kv, ok := strings.CutPrefix(strings.TrimSpace(line), "export ")
		if name, val, ok2 := strings.Cut(kv, "="); ok && ok2 {
			env = append(env, name+"="+strings.Trim(val, `"'`))
		}
	}
	return env
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func envValue(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v
		}
	}
	return ""
}

func lookPathIn(bin string, env []string) (string, error) {
	for _, dir := range filepath.SplitList(envValue(env, "PATH")) {
		p := filepath.Join(dir, bin)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not in PATH", bin)
}
