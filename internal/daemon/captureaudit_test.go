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
