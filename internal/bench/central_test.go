package bench

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/testutil"
)

// TestCentralOverhead runs the fleet comparison against a real PostgreSQL:
// in make test for a few hundred milliseconds (sanity: both configurations
// served every request, and the records reached PostgreSQL), in make bench
// at full length (BENCH_CENTRAL_OUT names the file for the figures).
func TestCentralOverhead(t *testing.T) {
	pg := testutil.StartPostgres(t)
	z, runs := SmokeSizes, 1
	out := os.Getenv("BENCH_CENTRAL_OUT")
	if out != "" {
		z, runs = FullSizes, 3
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := RunCentral(ctx, t.TempDir(), pg.URL, z, runs, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	m, ok := rep.find("rps_c16")
	if !ok {
		t.Fatal("no rps_c16 figures")
	}
	for _, target := range []string{Baseline, LocalTarget, CentralTarget} {
		checkSane(t, m, target)
	}
	testutil.Eventually(t, 60*time.Second, "a record of the central configuration in PostgreSQL", func() bool {
		n, _ := strconv.Atoi(pg.Psql(t, "SELECT count(*) FROM records WHERE host = 'bench'"))
		return n > 0
	})
	t.Log(rep.CentralSummary())
	if out != "" {
		if err := os.WriteFile(out, []byte(rep.CentralSummary()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
