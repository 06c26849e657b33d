package tlsmitm

import (
	"crypto/tls"
	"net/http"
	"testing"
)

// BenchmarkHandshake measures full TLS handshakes per second through
// ServeAPI over loopback (no session resumption), with the leaf cached or
// minted afresh for every handshake.
//
//	go test -run '^$' -bench Handshake -benchtime 3s ./tlsmitm/
func BenchmarkHandshake(b *testing.B) {
	for _, tc := range []struct {
		name  string
		purge bool
	}{{"cache_hit", false}, {"mint", true}} {
		b.Run(tc.name, func(b *testing.B) {
			s := startServer(b, http.NotFoundHandler(), nil)
			cfg := &tls.Config{RootCAs: s.roots, ServerName: testHost, NextProtos: []string{"http/1.1"}}
			for b.Loop() {
				if tc.purge {
					s.leaves.cache.Purge()
				}
				conn, err := tls.Dial("tcp", s.addr, cfg)
				if err != nil {
					b.Fatal(err)
				}
				conn.Close()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
		})
	}
}

// BenchmarkLeafMint measures minting alone (P-256 key + signature).
func BenchmarkLeafMint(b *testing.B) {
	a := newTestCA(b)
	for b.Loop() {
		if _, err := a.IssueLeaf(testHost); err != nil {
			b.Fatal(err)
		}
	}
}
