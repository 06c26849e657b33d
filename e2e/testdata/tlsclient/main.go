// Command tlsclient is an unmodified Go application using plain net/http with
// the system roots (no custom CA, no InsecureSkipVerify): Airlock's TLS
// end-to-end tests build it and run it inside the capture sandbox, where the
// only reason it can trust Airlock's leaf is what `airlock trust install`
// provisioned. It prints one JSON line describing the exchange.
// Usage: tlsclient -http 1.1|2 [-X POST] [-H "name: value"]... [-data-file F] URL
package main

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// result is what the test asserts on.
type result struct {
	Status     int    `json:"status"`
	Proto      string `json:"proto"`       // HTTP protocol of the response
	TLSVersion string `json:"tls_version"` // negotiated TLS version
	ALPN       string `json:"alpn"`        // negotiated ALPN protocol
	Leaf       []byte `json:"leaf"`        // DER of the certificate the server presented
	Issuer     string `json:"issuer"`      // the leaf's issuer
	BodyLen    int    `json:"body_len"`
	BodySHA256 string `json:"body_sha256"`
	Body       string `json:"body,omitempty"` // only when short
}

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	proto := flag.String("http", "2", "HTTP version to insist on: 1.1 or 2")
	method := flag.String("X", http.MethodGet, "request method")
	dataFile := flag.String("data-file", "", "request body from this file")
	var hdrs headers
	flag.Var(&hdrs, "H", "request header \"name: value\" (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		fail(fmt.Errorf("usage: tlsclient [flags] URL"))
	}
	req, err := newRequest(*method, flag.Arg(0), *dataFile, hdrs)
	if err != nil {
		fail(err)
	}
	res, err := do(client(*proto), req)
	if err != nil {
		fail(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "tlsclient:", err)
	os.Exit(1)
}

// client insists on one HTTP version, so a server that negotiates another fails.
func client(proto string) *http.Client {
	var p http.Protocols
	tr := &http.Transport{Protocols: &p, TLSHandshakeTimeout: 30 * time.Second}
	if proto == "1.1" {
		p.SetHTTP1(true)
		// Offer http/1.1 by ALPN as browsers and curl do (net/http offers
		// nothing when HTTP/2 is off). System roots still: RootCAs is nil.
		tr.TLSClientConfig = &tls.Config{NextProtos: []string{"http/1.1"}}
	} else {
		p.SetHTTP2(true)
	}
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute}
}

func newRequest(method, url, dataFile string, hdrs headers) (*http.Request, error) {
	var body io.Reader
	var size int64
	if dataFile != "" {
		f, err := os.Open(dataFile)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		body, size = f, st.Size()
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	for _, h := range hdrs {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return nil, fmt.Errorf("header %q: want \"name: value\"", h)
		}
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return req, nil
}

func do(c *http.Client, req *http.Request) (*result, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the response: %w", err)
	}
	sum := sha256.Sum256(body)
	res := &result{Status: resp.StatusCode, Proto: resp.Proto, BodyLen: len(body), BodySHA256: hex.EncodeToString(sum[:])}
	if len(body) <= 64<<10 {
		res.Body = string(body)
	}
	if cs := resp.TLS; cs != nil {
		res.TLSVersion, res.ALPN = tls.VersionName(cs.Version), cs.NegotiatedProtocol
		if len(cs.PeerCertificates) > 0 {
			res.Leaf, res.Issuer = cs.PeerCertificates[0].Raw, cs.PeerCertificates[0].Issuer.String()
		}
	}
	return res, nil
}
