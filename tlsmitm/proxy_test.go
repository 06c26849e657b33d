package tlsmitm

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// connectProxy is a minimal CONNECT proxy that sends every tunnel to target
// and records what the client asked for.
func connectProxy(t *testing.T, target string) (addr string, asked func() []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil || req.Method != http.MethodConnect {
					return
				}
				mu.Lock()
				seen = append(seen, req.Host)
				mu.Unlock()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().String(), func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
}

func TestUpstreamThroughConnectProxyWithCustomDial(t *testing.T) {
	up, caFile := startUpstream(t, hashEcho())
	proxyAddr, asked := connectProxy(t, up.Listener.Addr().String())
	var dials atomic.Int32
	tr, err := NewUpstream(UpstreamConfig{ExtraCAFile: caFile, ProxyURL: "http://" + proxyAddr,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Post("https://"+testHost+"/v1/messages", "text/plain", strings.NewReader("hi"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(body), testHost+" 2 ") {
		t.Errorf("upstream answered %q", body)
	}
	if a := asked(); len(a) != 1 || a[0] != testHost+":443" {
		t.Errorf("proxy saw CONNECT %v, want [%s:443]", a, testHost)
	}
	if dials.Load() == 0 {
		t.Error("the configured Dial was not used")
	}
}

// Shutdown lets an in-flight stream finish before it returns.
func TestShutdownDrainsStreams(t *testing.T) {
	firstSeen := make(chan struct{})
	s := startChain(t, streamer(50, firstSeen), true)
	resp, err := s.client(true).Get("https://" + testHost + "/v1/messages")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	close(firstSeen)
	rest, err := io.ReadAll(br)
	if err != nil || strings.Count(string(rest), "data: ") != 50 {
		t.Fatalf("stream cut by shutdown: %d events, err %v", strings.Count(string(rest), "data: "), err)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}
