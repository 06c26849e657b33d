package audit

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	writerEnv = "AIRLOCK_AUDIT_TEST_WRITER"
	appendEnv = "AIRLOCK_AUDIT_TEST_APPEND" // set: the helper Appends and prints request ids
)

// TestKillWriterHelper is not a test on its own: re-executed with writerEnv
// set, it writes records from several goroutines forever, printing each ID
// (with appendEnv, each request id after Append) as soon as the call returns.
func TestKillWriterHelper(t *testing.T) {
	path := os.Getenv(writerEnv)
	if path == "" {
		t.Skip("helper process for TestSIGKILLDuringBurst and TestSIGKILLAfterAppend")
	}
	s, err := Open(context.Background(), StoreConfig{Path: path})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	write, ack := s.Write, func(r *Record) string { return strconv.FormatInt(r.ID, 10) }
	if os.Getenv(appendEnv) != "" {
		write, ack = s.Append, func(r *Record) string { return r.RequestID }
	}
	var mu sync.Mutex
	for g := range 8 {
		go func() {
			for i := 0; ; i++ {
				r := sampleRecord(g*1_000_000 + i)
				if err := write(context.Background(), r, sampleRecording()); err != nil {
					fmt.Println("write:", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Println(ack(r)) // unbuffered: on the pipe before the next write starts
				mu.Unlock()
			}
		}()
	}
	select {}
}

// killAfter runs the helper on a new store (appending when appending is set),
// SIGKILLs it after n acknowledgements and returns the store's path and
// every acknowledgement it printed.
func killAfter(t *testing.T, n int, appending bool) (string, []string) {
	path := filepath.Join(t.TempDir(), "audit.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillWriterHelper$", "-test.count=1")
	cmd.Env = slices.Concat(os.Environ(), []string{writerEnv + "=" + path})
	if appending {
		cmd.Env = slices.Concat(cmd.Env, []string{appendEnv + "=1"})
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return path, readAcks(t, cmd, out, n)
}

func TestSIGKILLDuringBurst(t *testing.T) {
	path, acks := killAfter(t, 400, false)
	acked := make([]int64, len(acks))
	for i, a := range acks {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			t.Fatalf("writer: %s", a)
		}
		acked[i] = id
	}
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

// readAcks reads acknowledgements, SIGKILLs the writer after n, then drains
// what it had already printed.
func readAcks(t *testing.T, cmd *exec.Cmd, out interface{ Read([]byte) (int, error) }, n int) []string {
	t.Helper()
	var acked []string
	sc := bufio.NewScanner(out)
	timer := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() }) // hang guard
	defer timer.Stop()
	killed := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), ":") {
			t.Fatalf("writer: %s", sc.Text())
		}
		acked = append(acked, sc.Text())
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
