package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Memory measures a configuration's resident memory per idle keep-alive
// connection and per open stream: N connections that each finished one
// request, then N more each holding a slow stream open (HTTP/1.1, one stream
// per connection, as the Node SDK and Claude Code use).
type Memory struct {
	N      int
	Settle time.Duration // pause before reading RSS
}

// slowStream keeps an answer open: one event every 5 s after message_start.
var slowStream = http.Header{"X-Fake-Scenario": {"slow"}, "X-Fake-Interval-Ms": {"5000"}}

// Run returns base_mib, idle_kib (per idle connection), stream_kib (per open stream).
func (m Memory) Run(ctx context.Context, t Target) Result {
	res := Result{Metrics: map[string]float64{}}
	if t.PIDs == nil {
		return res
	}
	base := rssKiB(t.PIDs())
	idle, errs1 := m.open(ctx, t, SmallBody, nil)
	defer closeAll(idle)
	time.Sleep(m.Settle)
	withIdle := rssKiB(t.PIDs())
	streams, errs2 := m.open(ctx, t, StreamBody, slowStream)
	defer closeAll(streams)
	time.Sleep(m.Settle)
	withStreams := rssKiB(t.PIDs())
	res.Errors, res.Done = errs1+errs2, len(idle)+len(streams)
	res.Metrics["base_mib"] = float64(base) / 1024
	if len(idle) > 0 && len(streams) > 0 {
		res.Metrics["idle_kib"] = float64(withIdle-base) / float64(len(idle))
		res.Metrics["stream_kib"] = float64(withStreams-withIdle) / float64(len(streams))
	}
	return res
}

// open opens N connections in parallel batches, each with one request whose
// response (or, for a stream, its first event) has been read.
func (m Memory) open(ctx context.Context, t Target, body []byte, h http.Header) ([]net.Conn, int) {
	conns := make([]net.Conn, m.N)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := range m.N {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := holdOne(ctx, t, body, h)
			if err == nil {
				conns[i] = c
			}
		})
	}
	wg.Wait()
	var ok []net.Conn
	for _, c := range conns {
		if c != nil {
			ok = append(ok, c)
		}
	}
	return ok, m.N - len(ok)
}

// holdOne dials, sends one HTTP/1.1 request and returns the open connection
// once the response is complete (or a stream's first event arrived).
func holdOne(ctx context.Context, t Target, body []byte, h http.Header) (net.Conn, error) {
	d := tls.Dialer{Config: &tls.Config{ServerName: t.serverName(), RootCAs: t.Roots, NextProtos: []string{"http/1.1"}}}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	req, _ := newMessagesRequest(ctx, t.Key, body, h)
	br := bufio.NewReader(conn)
	err = req.Write(conn)
	if err == nil {
		err = readHead(br, req, h != nil)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return conn, nil
}

// readHead reads a whole response, or a stream up to its first event.
func readHead(br *bufio.Reader, req *http.Request, stream bool) error {
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	if !stream {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	line, err := bufio.NewReader(resp.Body).ReadSlice('\n')
	if err == nil && !bytes.HasPrefix(line, []byte("event:")) {
		err = fmt.Errorf("stream starts with %q", line)
	}
	return err
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// rssKiB is the resident memory of pids and all their descendants.
func rssKiB(pids []int) int64 {
	var total int64
	for _, pid := range withDescendants(pids) {
		total += statusKiB(pid, "VmRSS:")
	}
	return total
}

func statusKiB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// withDescendants adds every process whose ancestry leads to one of pids.
func withDescendants(pids []int) []int {
	parent := map[int]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if i := bytes.LastIndexByte(b, ')'); err == nil && i > 0 {
			fields := strings.Fields(string(b[i+1:]))
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			if len(fields) > 1 {
				parent[pid], _ = strconv.Atoi(fields[1])
			}
		}
	}
	in := map[int]bool{}
	for _, p := range pids {
		in[p] = true
	}
	for changed := true; changed; {
		changed = false
		for pid, pp := range parent {
			if in[pp] && !in[pid] {
				in[pid], changed = true, true
			}
		}
	}
	out := make([]int, 0, len(in))
	for p := range in {
		out = append(out, p)
	}
	return out
}
