// Command demoupstream is the fake Claude API (internal/fakeapi) as `make
// demo` runs it: on loopback, with its own throwaway CA, accepting only the
// demo's managed key, and printing every request it receives, so the demo can
// show what actually left the machine: which credential, which prompt.
//
//	demoupstream -listen 127.0.0.1:0 -ca-out ca.pem -key KEY -log upstream.log
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/airlock-dev/airlock/internal/fakeapi"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	caOut := flag.String("ca-out", "", "write the CA certificate here")
	key := flag.String("key", "", "the accepted x-api-key (the demo's managed key)")
	logFile := flag.String("log", "", "append a readable line per received request here")
	flag.Parse()
	if err := run(*listen, *caOut, *key, *logFile); err != nil {
		fmt.Fprintln(os.Stderr, "demoupstream:", err)
		os.Exit(1)
	}
}

func run(listen, caOut, key, logFile string) error {
	r, err := fakeapi.StartTLSAt(fakeapi.Config{APIKeys: []string{key}}, listen, filepath.Dir(caOut))
	if err != nil {
		return err
	}
	defer r.Close()
	if err := os.Rename(r.CAFile, caOut); err != nil {
		return err
	}
	log, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	fmt.Printf("listening on %s\n", r.Addr)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	seen := 0
	for {
		select {
		case <-sig:
			return nil
		case <-time.After(100 * time.Millisecond):
			reqs := r.Requests()
			for ; seen < len(reqs); seen++ {
				describe(log, seen+1, reqs[seen])
			}
		}
	}
}

// describe prints what the upstream saw: the credential headers and the prompt.
func describe(w *os.File, n int, r fakeapi.Request) {
	fmt.Fprintf(w, "request %d: %s %s\n", n, r.Method, r.Path)
	for _, h := range []string{"X-Api-Key", "Authorization", "Anthropic-Version"} {
		for _, v := range r.Header.Values(h) {
			fmt.Fprintf(w, "  %-18s %s\n", strings.ToLower(h)+":", v)
		}
	}
	fmt.Fprintf(w, "  %-18s %s\n", "prompt:", prompt(r.Body))
}

func prompt(body []byte) string {
	var req struct {
		Messages []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if json.Unmarshal(body, &req) != nil || len(req.Messages) == 0 {
		return string(body)
	}
	last := req.Messages[len(req.Messages)-1].Content
	var s string
	if json.Unmarshal(last, &s) == nil {
		return s
	}
	return string(last)
}
