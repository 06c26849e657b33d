package intercept

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"
)

type fakeResolver struct {
	answers map[string][]netip.Addr
	ttl     time.Duration
	err     error
}

func (f *fakeResolver) Resolve(_ context.Context, host string) ([]netip.Addr, time.Duration, error) {
	return f.answers[host], f.ttl, f.err
}

type fakeSink struct{ sets [][]Target }

func (s *fakeSink) SetTargets(ts []Target) error { s.sets = append(s.sets, ts); return nil }

func targetsOf(ports []uint16, prefixes ...string) []Target {
	var ps []netip.Prefix
	for _, p := range prefixes {
		ps = append(ps, netip.MustParsePrefix(p))
	}
	return ExpandTargets(ps, ports)
}

// TestSelectorUpdates drives the selector through resolutions over time:
// each step sets the resolver's answer (or error) at a time, then checks
// the set pushed to the kernel.
func TestSelectorUpdates(t *testing.T) {
	a1, a2 := netip.MustParseAddr("127.0.100.1"), netip.MustParseAddr("127.0.100.2")
	v6 := netip.MustParseAddr("fd00:a1::1")
	ports := []uint16{443}
	steps := []struct {
		name   string
		at     time.Duration
		answer []netip.Addr
		err    error
		want   []Target
	}{
		{"first answer", 0, []netip.Addr{a1, v6}, nil, targetsOf(ports, "10.9.0.0/16", "127.0.100.1/32", "fd00:a1::1/128")},
		{"not due yet: nothing resolved", 30 * time.Second, []netip.Addr{a2}, nil, targetsOf(ports, "10.9.0.0/16", "127.0.100.1/32", "fd00:a1::1/128")},
		{"failure drops nothing", 61 * time.Second, nil, errors.New("timeout"), targetsOf(ports, "10.9.0.0/16", "127.0.100.1/32", "fd00:a1::1/128")},
		{"new answer merged, expired old dropped", 95 * time.Second, []netip.Addr{a2}, nil, targetsOf(ports, "10.9.0.0/16", "127.0.100.2/32")},
		{"same answer again is stable", 160 * time.Second, []netip.Addr{a2}, nil, targetsOf(ports, "10.9.0.0/16", "127.0.100.2/32")},
	}
	res := &fakeResolver{ttl: time.Minute}
	sink := &fakeSink{}
	cfg := Config{Targets: []netip.Prefix{netip.MustParsePrefix("10.9.1.0/16")}, Hosts: []string{"api.test"}, Ports: ports}
	s := NewSelector(cfg, res, sink, nil)
	start := time.Unix(1_700_000_000, 0)
	for _, st := range steps {
		s.now = func() time.Time { return start.Add(st.at) }
		res.answers, res.err = map[string][]netip.Addr{"api.test": st.answer}, st.err
		_, err := s.Refresh(context.Background())
		if (err != nil) != (st.err != nil) {
			t.Errorf("%s: Refresh error %v", st.name, err)
		}
		if got := sink.sets[len(sink.sets)-1]; !slices.Equal(got, st.want) {
			t.Errorf("%s: pushed %v, want %v", st.name, got, st.want)
		}
	}
}

func TestExpandTargets(t *testing.T) {
	got := ExpandTargets([]netip.Prefix{
		netip.MustParsePrefix("160.79.105.9/23"), netip.MustParsePrefix("2607:6bc0::/48"),
		netip.MustParsePrefix("160.79.104.0/23"),
	}, []uint16{443, 8443})
	want := targetsOf([]uint16{443, 8443}, "160.79.104.0/23", "2607:6bc0::/48")
	if !slices.Equal(got, want) || len(got) != 4 {
		t.Errorf("ExpandTargets = %v, want %v", got, want)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A restarted daemon adopts the pinned set: the addresses a host name
// resolved to stay targets while the new daemon cannot resolve it yet, and
// go only once every host has answered (with other addresses).
func TestSelectorKeepsAdoptedUntilHostsResolve(t *testing.T) {
	ports := []uint16{443}
	res := &fakeResolver{ttl: time.Minute, err: errors.New("resolver not up yet")}
	sink := &fakeSink{}
	cfg := Config{Targets: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}, Hosts: []string{"api.test", "other.test"}, Ports: ports}
	s := NewSelector(cfg, res, sink, nil)
	pinned := targetsOf(ports, "10.9.0.0/16", "127.0.100.1/32")
	s.Adopt(pinned)
	if got := s.Targets(); !sameTargets(got, pinned) {
		t.Fatalf("before any resolution: %v, want the pinned set %v", got, pinned)
	}
	s.Refresh(context.Background())
	if got := sink.sets[len(sink.sets)-1]; !sameTargets(got, pinned) {
		t.Fatalf("after failed resolutions: pushed %v, want the pinned set %v", got, pinned)
	}
	// One host answers: the other has not, so the pinned address stays.
	res.err, res.answers = nil, map[string][]netip.Addr{"api.test": {netip.MustParseAddr("127.0.100.2")}}
	s.hosts["api.test"].next, s.hosts["other.test"].next = time.Time{}, s.now().Add(time.Hour)
	s.Refresh(context.Background())
	want := targetsOf(ports, "10.9.0.0/16", "127.0.100.2/32", "127.0.100.1/32")
	if got := sink.sets[len(sink.sets)-1]; !sameTargets(got, want) {
		t.Fatalf("one host resolved: pushed %v, want %v", got, want)
	}
	// Both have answered: the set is what they answered.
	s.hosts["other.test"].next = time.Time{}
	s.Refresh(context.Background())
	want = targetsOf(ports, "10.9.0.0/16", "127.0.100.2/32")
	if got := sink.sets[len(sink.sets)-1]; !sameTargets(got, want) {
		t.Fatalf("every host resolved: pushed %v, want %v", got, want)
	}
}

// sameTargets compares two sets whatever their order.
func sameTargets(a, b []Target) bool {
	key := func(ts []Target) []string {
		var out []string
		for _, t := range ts {
			out = append(out, t.String())
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}
