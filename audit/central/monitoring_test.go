package central

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/admin"
	"github.com/airlock-dev/airlock/audit"
)

// The alert rules and the dashboard in deploy/ are checked by Prometheus's
// own promtool (syntax and the rules' unit tests), and every metric they
// name must be one that airlockd exports: a renamed metric must not leave a
// silent alert behind.
func TestDeployedMonitoringMatchesMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: scripts/install-deps.sh installs Debian's prometheus package")
	}
	dir := filepath.Join("..", "..", "deploy", "prometheus")
	for _, args := range [][]string{{"check", "rules", "airlock-alerts.yaml"}, {"test", "rules", "airlock-alerts_test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	exported := exportedMetrics(t)
	for _, f := range []string{filepath.Join(dir, "airlock-alerts.yaml"), filepath.Join("..", "..", "deploy", "grafana", "airlock-fleet.json")} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".json") && !json.Valid(b) {
			t.Errorf("%s is not valid JSON", f)
		}
		for _, name := range regexp.MustCompile(`airlock_[a-z_]+`).FindAllString(string(b), -1) {
			if !exported[strings.TrimSuffix(name, "_bucket")] {
				t.Errorf("%s names %s, which airlockd does not export", filepath.Base(f), name)
			}
		}
	}
}

// exportedMetrics is every metric family airlockd's registry gathers once
// each metric has seen a value.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	m := admin.NewMetrics()
	m.Register(NewMember(Config{}, "h", nil, nil).Collector())
	m.Observe(&audit.Record{Decision: "allow", Status: 200, Masked: map[string]int{"aws_key": 1}, BytesIn: 1, BytesOut: 1,
		InputTokens: 1, OutputTokens: 1, TTFB: 1, Duration: 1})
	m.UpstreamError("dial")
	m.CredentialReload(true)
	m.AuditWriteError()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, f := range fams {
		out[f.GetName()] = true
	}
	return out
}
