package bench

import "testing"

func TestParseH2Load(t *testing.T) {
	out := `finished in 8.01s, 696.38 req/s, 767.78KB/s
requests: 5571 total, 5587 started, 5571 done, 5570 succeeded, 1 failed, 0 errored, 0 timeout
status codes: 5571 2xx, 0 3xx, 0 4xx, 0 5xx
                     min         max         mean         sd        +/- sd
time for request:     2.59ms    192.74ms     22.17ms     19.45ms    90.61%
`
	r := parseH2Load(out)
	if r.Metrics["rps"] != 696.38 || r.Done != 5570 || r.Errors != 1 || r.Metrics["mean"] != 22.17 {
		t.Fatalf("parsed %+v", r)
	}
	if r := parseH2Load("garbage"); r.Errors != 1 || r.Failure == "" {
		t.Fatalf("garbage parsed as %+v", r)
	}
	if durationMs("97us") != 0.097 || durationMs("1.5s") != 1500 {
		t.Fatal("durationMs")
	}
}
