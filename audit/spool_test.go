package audit

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

const appenderEnv = "AIRLOCK_AUDIT_TEST_APPENDER"

// TestKillAppenderHelper is not a test on its own: re-executed with
// appenderEnv set, it appends records from several goroutines forever,
// printing each request id as soon as its Append returns (what the gateway
// waits for before releasing a response).
func TestKillAppenderHelper(t *testing.T) {
	path := os.Getenv(appenderEnv)
	if path == "" {
		t.Skip("helper process for TestSIGKILLAfterAppend")
	}
	s, err := Open(context.Background(), StoreConfig{Path: path})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	for g := range 8 {
		go func() {
			for i := 0; ; i++ {
				r := sampleRecord(g*1_000_000 + i)
				if err := s.Append(context.Background(), r, sampleRecording()); err != nil {
					fmt.Println("append:", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Println(r.RequestID)
				mu.Unlock()
			}
		}()
	}
	select {}
}

// TestSIGKILLAfterAppend: a daemon killed in a burst of appends leaves some
// records only in the spool; the next Open commits them, so every
// acknowledged record is in the store, once, with its recording, and the
// chain verifies. A second Open finds nothing left to replay.
func TestSIGKILLAfterAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillAppenderHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), appenderEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	acked := readAppendAcks(t, cmd, out, 2000)
	for range 2 { // the replay, then a clean reopen
		s := openTest(t, StoreConfig{Path: path})
		if rep := verify(t, s); !rep.OK {
			t.Fatalf("store does not verify after SIGKILL: %+v", rep.Problems)
		}
		recs, err := s.List(context.Background(), Filter{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, r := range recs {
			seen[r.RequestID]++
		}
		for _, id := range acked {
			if seen[id] != 1 {
				t.Fatalf("acknowledged record %s is in the store %d times", id, seen[id])
			}
		}
		if rc, err := s.Recording(context.Background(), recs[0].ID); err != nil || len(rc.Events) == 0 {
			t.Fatalf("recording of a replayed record: %v", err)
		}
		s.Close()
		t.Logf("%d acknowledged appends, %d records after SIGKILL", len(acked), len(recs))
	}
	if left, _ := filepath.Glob(path + ".spool.*"); len(left) != 0 { // a clean Close commits and removes them
		t.Fatalf("spool segments left: %v", left)
	}
}

func readAppendAcks(t *testing.T, cmd *exec.Cmd, out interface{ Read([]byte) (int, error) }, n int) []string {
	t.Helper()
	var acked []string
	sc := bufio.NewScanner(out)
	timer := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	killed := false
	for sc.Scan() {
		if len(sc.Text()) < 4 || sc.Text()[:4] != "req_" {
			t.Fatalf("appender: %s", sc.Text())
		}
		acked = append(acked, sc.Text())
		if len(acked) == n && !killed {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			killed = true
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("appender exited after %d appends", len(acked))
	}
	return acked
}

// TestSecondOpenerLeavesTheSpoolAlone: `airlock audit verify --db` beside a
// running daemon must not commit or remove the daemon's spooled records;
// only the owner of the spool lock replays and spools.
func TestSecondOpenerLeavesTheSpoolAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	owner := openTest(t, StoreConfig{Path: path})
	other := openTest(t, StoreConfig{Path: path})
	if owner.spool == nil || other.spool != nil {
		t.Fatalf("spool owner %v, second opener %v: want only the first", owner.spool != nil, other.spool != nil)
	}
	segs, _ := filepath.Glob(path + ".spool.*")
	if len(segs) != 1 {
		t.Fatalf("the owner's spool segment is gone: %v", segs)
	}
	if err := owner.Append(context.Background(), sampleRecord(2), sampleRecording()); err != nil {
		t.Fatal(err)
	}
	owner.Close()
	if rep := verify(t, other); !rep.OK || rep.Records != 1 {
		t.Fatalf("verify = %+v", rep)
	}
}

// TestReadSeesAppended: a read right after Append returns sees the record,
// though its commit happens on the writer goroutine.
func TestReadSeesAppended(t *testing.T) {
	s := openTest(t, StoreConfig{})
	for i := range 50 {
		if err := s.Append(context.Background(), sampleRecord(i), sampleRecording()); err != nil {
			t.Fatal(err)
		}
		recs, err := s.List(context.Background(), Filter{})
		if err != nil || len(recs) != i+1 {
			t.Fatalf("after %d appends List has %d records (%v)", i+1, len(recs), err)
		}
	}
}
