package bench

import (
	"os"
	"strings"
	"testing"
)

// The benchmark measures the daemon with the runtime settings its unit gives
// it: a change to one must be made to the other.
func TestBenchRunsTheDeployedGoSettings(t *testing.T) {
	unit, err := os.ReadFile("../../deploy/airlockd.service")
	if err != nil {
		t.Fatal(err)
	}
	want := "Environment=" + strings.Join(DeployedEnv, " ")
	for line := range strings.Lines(string(unit)) {
		if strings.TrimSpace(line) == want {
			return
		}
	}
	t.Fatalf("deploy/airlockd.service has no line %q: the benchmark would measure another configuration than the one deployed", want)
}
