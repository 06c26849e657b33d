package audit

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestWriteChainsAndReadsBack(t *testing.T) {
	s := openTest(t, StoreConfig{})
	recs := writeN(t, s, 5, true)
	for i, r := range recs {
		if r.ID != int64(i+1) || r.Hash == "" || (i > 0 && r.PrevHash != recs[i-1].Hash) {
			t.Fatalf("record %d: id=%d prev=%q hash=%q", i, r.ID, r.PrevHash, r.Hash)
		}
	}
	got, err := s.Get(context.Background(), 3)
	if err != nil {
		t.Fatal(err)
	}
	want := recs[2]
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Get(3) =\n%+v\nwant\n%+v", got, want)
	}
	rc, err := s.Recording(context.Background(), 3)
	if err != nil || !reflect.DeepEqual(rc, sampleRecording()) {
		t.Fatalf("Recording(3) = %+v, %v", rc, err)
	}
	if _, err := s.Get(context.Background(), 99); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(99) = %v", err)
	}
	if rep := verify(t, s); !rep.OK || rep.Records != 5 || rep.HeadSeq != 5 || rep.HeadHash != recs[4].Hash {
		t.Fatalf("verify = %+v", rep)
	}
}

func TestChainContinuesAcrossReopen(t *testing.T) {
	s := openTest(t, StoreConfig{})
	writeN(t, s, 3, false)
	path := s.cfg.Path
	s.Close()
	s2 := openTest(t, StoreConfig{Path: path})
	writeN(t, s2, 3, false)
	if rep := verify(t, s2); !rep.OK || rep.Records != 6 {
		t.Fatalf("verify after reopen = %+v", rep)
	}
}

func TestListFilters(t *testing.T) {
	s := openTest(t, StoreConfig{})
	for i, m := range []struct{ model, decision string }{{"a", "allow"}, {"b", "deny"}, {"a", "deny"}} {
		r := sampleRecord(i)
		r.Model, r.Decision = m.model, m.decision
		if i == 2 {
			r.Caller.UID, r.Caller.User, r.Caller.Exe = 0, "root", "/usr/bin/python3"
		}
		if err := s.Write(context.Background(), r, nil); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		f    Filter
		want []int64
	}{
		{Filter{}, []int64{1, 2, 3}},
		{Filter{Model: "a"}, []int64{1, 3}},
		{Filter{Decision: "deny"}, []int64{2, 3}},
		{Filter{Caller: "python3"}, []int64{3}},
		{Filter{Caller: "1000"}, []int64{1, 2}},
		{Filter{Caller: "root"}, []int64{3}},
		{Filter{Caller: "/usr/bin/python3"}, []int64{3}},
		{Filter{Caller: "/usr/bin/node"}, []int64{1, 2}},
		{Filter{Caller: "bin/node"}, []int64{1, 2}},
		{Filter{Since: t0.Add(time.Second)}, []int64{2, 3}},
		{Filter{Until: t0.Add(time.Second)}, []int64{1}},
		{Filter{Limit: 2}, []int64{2, 3}},
	}
	for _, c := range cases {
		recs, err := s.List(context.Background(), c.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, r := range recs {
			ids = append(ids, r.ID)
		}
		if !reflect.DeepEqual(ids, c.want) {
			t.Errorf("List(%+v) = %v, want %v", c.f, ids, c.want)
		}
	}
}

func TestExportJSONL(t *testing.T) {
	s := openTest(t, StoreConfig{})
	recs := writeN(t, s, 3, false)
	var buf bytes.Buffer
	if err := s.Export(context.Background(), Filter{}, &buf); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	var r Record
	if err := json.Unmarshal(lines[2], &r); err != nil || r.Hash != recs[2].Hash || r.RequestID != "req_003" {
		t.Fatalf("line 3 = %s (%v)", lines[2], err)
	}
}

// TestConcurrentWriters: many goroutines, one chain (run with -race).
func TestConcurrentWriters(t *testing.T) {
	s := openTest(t, StoreConfig{})
	var wg sync.WaitGroup
	ids := make(chan int64, 200)
	for g := 0; g < 10; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				r := sampleRecord(g*100 + i)
				if err := s.Write(context.Background(), r, sampleRecording()); err != nil {
					t.Error(err)
					return
				}
				ids <- r.ID
			}
		}(g)
	}
	wg.Wait()
	close(ids)
	seen := map[int64]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("id %d returned twice", id)
		}
		seen[id] = true
	}
	if rep := verify(t, s); !rep.OK || rep.Records != 200 || len(seen) != 200 {
		t.Fatalf("verify = %+v, %d ids", rep, len(seen))
	}
}

func TestWriteFailureIsReportedAndRecovers(t *testing.T) {
	s := openTest(t, StoreConfig{})
	writeN(t, s, 1, false)
	setMaxPages(t, s, 1) // "disk full": SQLite refuses to grow the file
	r := sampleRecord(2)
	r.Reason = string(bytes.Repeat([]byte("x"), 64<<10))
	err := s.Write(context.Background(), r, nil)
	if err == nil || s.Ready() == nil {
		t.Fatalf("write to a full store: err=%v ready=%v", err, s.Ready())
	}
	if r.ID != 0 || r.Hash != "" {
		t.Fatalf("failed write left chain fields: %+v", r)
	}
	setMaxPages(t, s, 1<<30)
	if err := s.Write(context.Background(), sampleRecord(3), nil); err != nil || s.Ready() != nil {
		t.Fatalf("after space returned: err=%v ready=%v", err, s.Ready())
	}
	if rep := verify(t, s); !rep.OK || rep.Records != 2 {
		t.Fatalf("verify = %+v", rep)
	}
}

// setMaxPages applies max_page_count on every pooled connection.
func setMaxPages(t *testing.T, s *Store, pages int) {
	t.Helper()
	ctx := context.Background()
	var held []interface{ Close() error }
	for i := 0; i < 4; i++ {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if pages < 1<<30 {
			var cur int
			_ = c.QueryRowContext(ctx, "PRAGMA page_count").Scan(&cur)
			pages = max(pages, cur)
		}
		if _, err := c.ExecContext(ctx, "PRAGMA max_page_count = "+itoa(pages)); err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	for _, c := range held {
		c.Close()
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestWriteAfterClose(t *testing.T) {
	s := openTest(t, StoreConfig{})
	s.Close()
	if err := s.Write(context.Background(), sampleRecord(1), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v", err)
	}
	if !errors.Is(s.Ready(), ErrClosed) {
		t.Fatal("Ready after Close is nil")
	}
}

// TestSyncSetting: the configured durability reaches SQLite (NORMAL = 1,
// FULL = 2 in PRAGMA synchronous) and an unknown value is refused.
func TestSyncSetting(t *testing.T) {
	for cfg, want := range map[string]int{"": 1, SyncNormal: 1, SyncFull: 2} {
		s := openTest(t, StoreConfig{Sync: cfg})
		var got int
		if err := s.db.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("sync %q: PRAGMA synchronous = %d, want %d", cfg, got, want)
		}
	}
	if _, err := Open(context.Background(), StoreConfig{Path: filepath.Join(t.TempDir(), "a.db"), Sync: "off"}); err == nil {
		t.Fatal("sync \"off\" accepted")
	}
}

// TestRecordingForms: a small recording is stored framed as is, a large one
// gzip'd; both (and a gzip'd small JSON one, as older stores hold) read back.
func TestRecordingForms(t *testing.T) {
	small := sampleRecording()
	large := sampleRecording()
	large.RequestBody = bytes.Repeat([]byte(`{"role":"user","content":"again"}`), 400)
	var oldStyle bytes.Buffer
	zw := gzip.NewWriter(&oldStyle)
	if err := json.NewEncoder(zw).Encode(small); err != nil || zw.Close() != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		rc      *Recording
		gzipped bool
	}{"small": {small, false}, "large": {large, true}} {
		blob, err := compressRecording(c.rc)
		if err != nil {
			t.Fatal(err)
		}
		if isGzip := bytes.HasPrefix(blob, []byte{0x1f, 0x8b}); isGzip != c.gzipped {
			t.Errorf("%s: gzip'd = %v, want %v", name, isGzip, c.gzipped)
		}
		if got, err := decompressRecording(blob); err != nil || !reflect.DeepEqual(got, c.rc) {
			t.Errorf("%s: round trip changed the recording (%v)", name, err)
		}
	}
	if got, err := decompressRecording(oldStyle.Bytes()); err != nil || !reflect.DeepEqual(got, small) {
		t.Errorf("a gzip'd small recording does not read back (%v)", err)
	}
	s := openTest(t, StoreConfig{})
	for i, rc := range []*Recording{small, large} {
		rec := sampleRecord(i)
		if err := s.Write(context.Background(), rec, rc); err != nil {
			t.Fatal(err)
		}
		got, err := s.Recording(context.Background(), rec.ID)
		if err != nil || !reflect.DeepEqual(got, rc) {
			t.Fatalf("recording %d read back wrong: %v", i, err)
		}
	}
	if rep := verify(t, s); !rep.OK {
		t.Fatalf("store does not verify: %+v", rep.Problems)
	}
}
