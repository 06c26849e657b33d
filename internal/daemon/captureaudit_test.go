package daemon

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/intercept"
	"github.com/airlock-dev/airlock/internal/config"
)

type memAuditor struct {
	recs []*audit.Record
	err  error
}

func (m *memAuditor) Write(_ context.Context, rec *audit.Record, _ *audit.Recording) error {
	m.recs = append(m.recs, rec)
	return m.err
}

func (m *memAuditor) Ready() error { return nil }

// TestCaptureAuditorRecords: a refusal becomes an audit record naming the
// caller, SNI and destination; a write error reaches capture, which then
// does not relay.
func TestCaptureAuditorRecords(t *testing.T) {
	mem := &memAuditor{}
	o := &caller.Origin{ConnID: "c1", Dst: netip.MustParseAddrPort("160.79.104.10:443"), SNI: "other.example",
		Accepted: time.Now(), Process: caller.Process{PID: 42, Exe: "/bin/sh", ExeName: "evil", ExeChanged: true}}
	d := intercept.Decision{Kind: intercept.DecisionRefusedSNI, Reason: "not an API host", Origin: o}
	if err := (captureAuditor{audit: mem}).Report(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	r := mem.recs[0]
	if r.Decision != "refused_sni" || r.SNI != "other.example" || r.Dst != "160.79.104.10:443" ||
		r.Caller.PID != 42 || !r.Caller.ExeChanged || r.Rule != "capture" || r.RequestID != "c1" {
		t.Errorf("record = %+v", r)
	}
	mem.err = errors.New("disk full")
	d.Kind, d.Origin.Dst = intercept.DecisionRefusedNoRecord, netip.AddrPort{}
	if err := (captureAuditor{audit: mem}).Report(context.Background(), d); err == nil || mem.recs[1].Dst != "" {
		t.Errorf("write error %v, dst %q: want the error and no destination", err, mem.recs[1].Dst)
	}
}

// TestMarkDrawnOncePerStart: capture.mark 0 draws a mark once and keeps it
// (the gateway's dialer and the kernel's config must agree); a configured
// mark is used as is.
func TestMarkDrawnOncePerStart(t *testing.T) {
	d := &Daemon{cfg: &config.Config{}}
	m := d.mark()
	if m == 0 || d.mark() != m || d.cfg.Capture.Mark != m {
		t.Errorf("drawn mark %#x, then %#x, config %#x: want one non-zero mark", m, d.mark(), d.cfg.Capture.Mark)
	}
	if other := (&Daemon{cfg: &config.Config{}}).mark(); other == m {
		t.Errorf("two starts drew the same mark %#x", m)
	}
	fixed := &Daemon{cfg: &config.Config{Capture: config.Capture{Mark: 0x5eed}}}
	if fixed.mark() != 0x5eed {
		t.Errorf("configured mark not kept: %#x", fixed.mark())
	}
}
