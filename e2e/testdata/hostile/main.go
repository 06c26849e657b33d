// Command hostile is the adversarial suite's attacker: a captured application
// that tries to steer, skip, crash or out-spend Airlock. The e2e tests build
// it and run it inside the capture sandbox; it trusts Airlock's CA only
// through the system roots `airlock trust install` provisioned. Each mode
// prints one JSON line (a result) and exits 0 unless the harness itself is
// broken: what the daemon did is in the JSON, for the test to judge.
//
//	hostile raw    -req FILE [-addr A] [-sni S] [-insecure] [-trickle D -for D]
//	hostile h2     -authority A -path P -body FILE [-H "k: v"]...
//	hostile hold   -req FILE -n N -for D
//	hostile handshake -addr A -sni S
//	hostile mark   -mark M -addr A -req FILE
//	hostile nbconnect -addr A -req FILE
//	hostile udp    -addr A
//	hostile execswap -addr A -req FILE
package main

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// result is what the test asserts on.
type result struct {
	Status    int                 `json:"status"` // 0: no HTTP answer
	Header    map[string][]string `json:"header,omitempty"`
	Body      string              `json:"body,omitempty"`
	Error     string              `json:"error,omitempty"`   // how the exchange ended when not with an answer
	ElapsedMS int64               `json:"elapsed_ms"`        // from the first byte sent to the end
	Sent      int                 `json:"sent,omitempty"`    // body bytes written (trickle)
	Results   []result            `json:"results,omitempty"` // hold: one per connection
	Notes     map[string]string   `json:"notes,omitempty"`   // mode-specific facts (errnos, certificate names)
}

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

// opts are every mode's flags; a mode reads the ones it needs.
type opts struct {
	addr, sni, reqFile, authority, path, bodyFile string
	insecure                                      bool
	trickle, hold, timeout                        time.Duration
	n                                             int
	mark                                          uint
	fd                                            int
	hdrs                                          headers
}

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: hostile MODE [flags]"))
	}
	mode := os.Args[1]
	var o opts
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	fs.StringVar(&o.addr, "addr", "api.anthropic.com:443", "where to connect")
	fs.StringVar(&o.sni, "sni", "api.anthropic.com", "TLS server name")
	fs.StringVar(&o.reqFile, "req", "", "raw HTTP/1.1 request bytes")
	fs.StringVar(&o.authority, "authority", "api.anthropic.com", "h2 :authority")
	fs.StringVar(&o.path, "path", "/v1/messages", "h2 path")
	fs.StringVar(&o.bodyFile, "body", "", "h2 request body")
	fs.BoolVar(&o.insecure, "insecure", false, "do not verify the server (the attacker does not care)")
	fs.DurationVar(&o.trickle, "trickle", 0, "raw: send the body one byte per interval")
	fs.DurationVar(&o.hold, "for", 0, "raw -trickle, hold: give up after this long")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "per exchange")
	fs.IntVar(&o.n, "n", 1, "hold: connections")
	fs.UintVar(&o.mark, "mark", 0, "mark: SO_MARK value")
	fs.IntVar(&o.fd, "fd", -1, "fromfd: the connected socket inherited across execve")
	fs.Var(&o.hdrs, "H", "h2: request header (repeatable)")
	_ = fs.Parse(os.Args[2:])
	modes := map[string]func(opts) result{"raw": modeRaw, "h2": modeH2, "hold": modeHold, "handshake": modeHandshake,
		"mark": modeMark, "nbconnect": modeNBConnect, "udp": modeUDP, "execswap": modeExecSwap, "fromfd": modeFromFD}
	run, ok := modes[mode]
	if !ok {
		fail(fmt.Errorf("unknown mode %q", mode))
	}
	if err := json.NewEncoder(os.Stdout).Encode(run(o)); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "hostile:", err)
	os.Exit(2)
}

func (o opts) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: o.sni, InsecureSkipVerify: o.insecure, NextProtos: []string{"http/1.1"}}
}

// dialTLS connects and completes the handshake (verified against the system
// roots unless -insecure).
func (o opts) dialTLS() (*tls.Conn, error) {
	d := &net.Dialer{Timeout: o.timeout}
	return tls.DialWithDialer(d, "tcp", o.addr, o.tlsConfig())
}

func mustRead(name string) []byte {
	b, err := os.ReadFile(name)
	if err != nil {
		fail(err)
	}
	return b
}

// modeRaw writes a raw HTTP/1.1 request (or its head, then its body one byte
// per -trickle) and reads one response.
func modeRaw(o opts) result {
	conn, err := o.dialTLS()
	if err != nil {
		return result{Error: "dial: " + err.Error()}
	}
	return exchange(conn, mustRead(o.reqFile), o)
}

// exchange sends req on conn and reads the answer; the connection is closed.
func exchange(conn net.Conn, req []byte, o opts) result {
	defer conn.Close()
	start := time.Now()
	limit := o.timeout
	if o.hold > limit {
		limit = o.hold + 10*time.Second
	}
	_ = conn.SetDeadline(start.Add(limit))
	answered := make(chan result, 1)
	go func() { answered <- readResponse(conn) }()
	sent, werr := send(conn, req, o, answered)
	var res result
	select {
	case res = <-answered:
	case <-time.After(time.Until(start.Add(limit))):
		res = result{Error: "no answer in time"}
	}
	if res.Status == 0 && werr != nil && res.Error == "" {
		res.Error = "write: " + werr.Error()
	}
	res.ElapsedMS, res.Sent = time.Since(start).Milliseconds(), sent
	return res
}

// send writes req; with -trickle, the head at once and the body a byte at a
// time until it is sent, -for has passed, or the server answered.
func send(conn net.Conn, req []byte, o opts, answered chan result) (int, error) {
	if o.trickle <= 0 {
		_, err := conn.Write(req)
		return 0, err
	}
	head, body, _ := strings.Cut(string(req), "\r\n\r\n")
	if _, err := conn.Write([]byte(head + "\r\n\r\n")); err != nil {
		return 0, err
	}
	stop := time.Now().Add(o.hold)
	for i := 0; i < len(body) && time.Now().Before(stop); i++ {
		if _, err := conn.Write([]byte{body[i]}); err != nil {
			return i, err
		}
		select {
		case r := <-answered:
			answered <- r
			return i + 1, nil
		case <-time.After(o.trickle):
		}
	}
	return len(body), nil
}

// readResponse reads one HTTP/1.1 response (the body up to 1 MiB is kept).
func readResponse(conn net.Conn) result {
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return result{Error: "read: " + err.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	res := result{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
	if err != nil {
		res.Error = "body: " + err.Error()
	}
	return res
}

// modeH2 sends one HTTP/2 request whose :authority is -authority while the
// TLS server name stays -sni.
func modeH2(o opts) result {
	tr := &http.Transport{ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{ServerName: o.sni, InsecureSkipVerify: o.insecure},
		DialContext:     (&net.Dialer{Timeout: o.timeout}).DialContext}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodPost, "https://"+o.sni+o.path, strings.NewReader(string(mustRead(o.bodyFile))))
	if err != nil {
		fail(err)
	}
	req.Host = o.authority
	for _, h := range o.hdrs {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	start := time.Now()
	resp, err := (&http.Client{Transport: tr, Timeout: o.timeout}).Do(req)
	if err != nil {
		return result{Error: err.Error(), ElapsedMS: time.Since(start).Milliseconds()}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return result{Status: resp.StatusCode, Header: resp.Header, Body: string(body),
		ElapsedMS: time.Since(start).Milliseconds(), Notes: map[string]string{"proto": resp.Proto}}
}

// modeHandshake only completes (or fails) the TLS handshake and reports the
// certificate the server showed.
func modeHandshake(o opts) result {
	conn, err := o.dialTLS()
	if err != nil {
		return result{Error: "handshake: " + err.Error()}
	}
	defer conn.Close()
	st := conn.ConnectionState()
	notes := map[string]string{"handshake": "ok"}
	if len(st.PeerCertificates) > 0 {
		notes["issuer"] = st.PeerCertificates[0].Issuer.CommonName
		notes["names"] = strings.Join(st.PeerCertificates[0].DNSNames, ",")
	}
	return result{Notes: notes}
}
