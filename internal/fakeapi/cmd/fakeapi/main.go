// Command fakeapi serves the fake Claude API over TLS for the demo and the
// benchmarks. It prints "listening on ADDR" once it accepts connections.
//
//	fakeapi -listen 127.0.0.1:8443 -ca-out /tmp/fakeapi-ca.pem -keys-file keys.txt
//
// Accepted API keys come from -keys-file (one per line) and FAKEAPI_API_KEYS
// (comma-separated); bearer tokens from -tokens-file and FAKEAPI_BEARER_TOKENS.
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/internal/fakeapi"
)

type flags struct {
	listen, caOut, cert, key, keysFile, tokensFile string
	think                                          time.Duration
	record, verbose                                bool
}

func main() {
	var f flags
	flag.StringVar(&f.listen, "listen", "127.0.0.1:8443", "address to listen on")
	flag.StringVar(&f.caOut, "ca-out", "", "write the generated CA certificate here (PEM)")
	flag.StringVar(&f.cert, "cert", "", "serve this certificate (PEM) instead of a generated one")
	flag.StringVar(&f.key, "key", "", "the key of -cert (PEM)")
	flag.StringVar(&f.keysFile, "keys-file", "", "accepted x-api-key values, one per line")
	flag.StringVar(&f.tokensFile, "tokens-file", "", "accepted bearer tokens, one per line")
	flag.DurationVar(&f.think, "think", 0, "delay before each response's headers")
	flag.BoolVar(&f.record, "record", false, "keep every request in memory (off: flat memory for benchmarks)")
	flag.BoolVar(&f.verbose, "v", false, "log refused requests")
	flag.Parse()
	if err := run(f); err != nil {
		fmt.Fprintln(os.Stderr, "fakeapi:", err)
		os.Exit(1)
	}
}

func run(f flags) error {
	cfg, err := config(f)
	if err != nil {
		return err
	}
	r, err := start(f, cfg)
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Printf("listening on %s\n", r.Addr)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	return nil
}

func config(f flags) (fakeapi.Config, error) {
	cfg := fakeapi.Config{ThinkTime: f.think, NoRecord: !f.record, Log: zap.NewNop()}
	if f.verbose {
		cfg.Log, _ = zap.NewDevelopment()
	}
	var err1, err2 error
	cfg.APIKeys, err1 = credentials(f.keysFile, "FAKEAPI_API_KEYS")
	cfg.BearerTokens, err2 = credentials(f.tokensFile, "FAKEAPI_BEARER_TOKENS")
	if err := errors.Join(err1, err2); err != nil {
		return cfg, err
	}
	if len(cfg.APIKeys)+len(cfg.BearerTokens) == 0 {
		return cfg, errors.New("no accepted credential: give -keys-file, -tokens-file, FAKEAPI_API_KEYS or FAKEAPI_BEARER_TOKENS")
	}
	return cfg, nil
}

func credentials(file, env string) ([]string, error) {
	text := strings.ReplaceAll(os.Getenv(env), ",", "\n")
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading credentials: %w", err)
		}
		text += "\n" + string(b)
	}
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out, nil
}

func start(f flags, cfg fakeapi.Config) (*fakeapi.Running, error) {
	if f.cert != "" {
		cert, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, fmt.Errorf("loading -cert/-key: %w", err)
		}
		return fakeapi.ServeTLS(fakeapi.New(cfg), f.listen, cert)
	}
	dir := ""
	if f.caOut != "" {
		dir = filepath.Dir(f.caOut)
	}
	r, err := fakeapi.StartTLSAt(cfg, f.listen, dir)
	if err != nil || f.caOut == "" || r.CAFile == f.caOut {
		return r, err
	}
	if err := os.Rename(r.CAFile, f.caOut); err != nil {
		r.Close()
		return nil, fmt.Errorf("writing -ca-out: %w", err)
	}
	return r, nil
}
