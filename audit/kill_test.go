package audit

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

const writerEnv = "AIRLOCK_AUDIT_TEST_WRITER"

// TestKillWriterHelper is not a test on its own: re-executed with writerEnv
// set, it writes records from several goroutines forever, printing each ID as
// soon as its Write returns.
func TestKillWriterHelper(t *testing.T) {
	path := os.Getenv(writerEnv)
	if path == "" {
		t.Skip("helper process for TestSIGKILLDuringBurst")
	}
	s, err := Open(context.Background(), StoreConfig{Path: path})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	for g := 0; g < 8; g++ {
		go func(g int) {
			for i := 0; ; i++ {
				r := sampleRecord(g*1_000_000 + i)
				if err := s.Write(context.Background(), r, sampleRecording()); err != nil {
					fmt.Println("write:", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Println(r.ID) // unbuffered: on the pipe before the next write starts
				mu.Unlock()
			}
		}(g)
	}
	select {}
}

func TestSIGKILLDuringBurst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillWriterHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), writerEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	acked := readAcks(t, cmd, out, 400)
	s := openTest(t, StoreConfig{Path: path})
	rep := verify(t, s)
	if !rep.OK {
		t.Fatalf("store does not verify after SIGKILL: %+v", rep.Problems)
	}
	for _, id := range acked {
		if _, err := s.Get(context.Background(), id); err != nil {
			t.Fatalf("record %d was acknowledged but is missing: %v", id, err)
		}
	}
	if len(acked) < 400 || rep.Records < len(acked) {
		t.Fatalf("%d acknowledged, %d in store", len(acked), rep.Records)
	}
	t.Logf("%d acknowledged writes, %d records after SIGKILL", len(acked), rep.Records)
}

// readAcks reads acknowledged IDs, SIGKILLs the writer after n, then drains
// what it had already printed.
func readAcks(t *testing.T, cmd *exec.Cmd, out interface{ Read([]byte) (int, error) }, n int) []int64 {
	t.Helper()
	var acked []int64
	sc := bufio.NewScanner(out)
	timer := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() }) // hang guard
	defer timer.Stop()
	killed := false
	for sc.Scan() {
		id, err := strconv.ParseInt(sc.Text(), 10, 64)
		if err != nil {
			t.Fatalf("writer: %s", sc.Text())
		}
		acked = append(acked, id)
		if len(acked) == n && !killed {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			killed = true
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("writer exited after %d writes", len(acked))
	}
	return acked
}
