package fakeapi

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestTLSServesBothProtocols checks h2 and HTTP/1.1 are offered, and that the
// CA file alone is enough to verify the server (what an upstream's extra CA file needs).
func TestTLSServesBothProtocols(t *testing.T) {
	r := startFake(t)
	pem, err := os.ReadFile(r.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("CA file holds no certificate")
	}
	for _, tc := range []struct {
		proto string
		major int
	}{{"h2", 2}, {"http/1.1", 1}} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, NextProtos: []string{tc.proto}, ServerName: "api.anthropic.com"},
			ForceAttemptHTTP2: tc.major == 2}
		req, _ := http.NewRequest("POST", r.URL+"/v1/messages", strings.NewReader(helloBody))
		req.Header.Set("X-Api-Key", testKey)
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.proto, err)
		}
		resp.Body.Close()
		tr.CloseIdleConnections()
		if resp.StatusCode != 200 || resp.ProtoMajor != tc.major {
			t.Fatalf("%s: status %d proto %s", tc.proto, resp.StatusCode, resp.Proto)
		}
	}
	if got := r.Requests(); len(got) != 2 || got[0].Proto != "HTTP/2.0" || got[1].Proto != "HTTP/1.1" {
		t.Fatalf("recorded %d requests", len(got))
	}
}

func TestCloseRemovesOwnCAFile(t *testing.T) {
	r, err := StartTLSAt(Config{APIKeys: []string{testKey}}, "127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := os.Stat(r.CAFile); !os.IsNotExist(err) {
		t.Fatalf("CA file left behind: %v", err)
	}
}
