package credential

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Kind is how a credential is presented upstream.
type Kind string

// Kinds of managed credential.
const (
	KindAPIKey Kind = "api_key" // sent as x-api-key
	KindBearer Kind = "bearer"  // sent as Authorization: Bearer
)

// Spec configures one named credential. Exactly one of File, Env, Systemd or
// Command is set.
type Spec struct {
	Name    string        `mapstructure:"name" yaml:"name"`
	Kind    Kind          `mapstructure:"kind" yaml:"kind"`
	File    string        `mapstructure:"file" yaml:"file"`
	Env     string        `mapstructure:"env" yaml:"env"`
	Systemd string        `mapstructure:"systemd" yaml:"systemd"` // name under $CREDENTIALS_DIRECTORY
	Command []string      `mapstructure:"command" yaml:"command"` // argv of a helper that prints the value
	Timeout time.Duration `mapstructure:"timeout" yaml:"timeout"` // helper timeout, default 10s
	TTL     time.Duration `mapstructure:"ttl" yaml:"ttl"`         // helper output cache, default 5m
}

// ErrUnavailable is wrapped by every error that means "no value right now":
// the gateway answers it with a 503-class API error.
var ErrUnavailable = errors.New("credential unavailable")

const (
	defaultHelperTimeout = 10 * time.Second
	defaultHelperTTL     = 5 * time.Minute
	maxHelperOutput      = 64 << 10
)

// Validate reports what is wrong with s.
func (s Spec) Validate() error {
	var errs []error
	if s.Name == "" {
		errs = append(errs, errors.New("name is empty"))
	}
	if s.Kind != KindAPIKey && s.Kind != KindBearer {
		errs = append(errs, fmt.Errorf("kind %q: want api_key or bearer", s.Kind))
	}
	if n := s.sources(); n != 1 {
		errs = append(errs, fmt.Errorf("%d sources set: want exactly one of file, env, systemd, command", n))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("credential %q: %w", s.Name, err)
	}
	return nil
}

func (s Spec) sources() int {
	n := 0
	for _, set := range []bool{s.File != "", s.Env != "", s.Systemd != "", len(s.Command) > 0} {
		if set {
			n++
		}
	}
	return n
}

// readFile reads a credential file, refusing one that others could read.
func readFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("opening credential file: %w: %w", err, ErrUnavailable)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("checking credential file %s: %w: %w", path, err, ErrUnavailable)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("credential file %s has mode %04o: it must not be readable by group or others (chmod 600): %w",
			path, st.Mode().Perm(), ErrUnavailable)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return "", fmt.Errorf("reading credential file %s: %w: %w", path, err, ErrUnavailable)
	}
	return clean(buf.String(), path)
}

func readEnv(name string) (string, error) {
	v, ok := os.LookupEnv(name)
	if !ok {
		return "", fmt.Errorf("environment variable %s is not set: %w", name, ErrUnavailable)
	}
	return clean(v, "environment variable "+name)
}

func systemdPath(name string) (string, error) {
	dir := os.Getenv("CREDENTIALS_DIRECTORY")
	if dir == "" {
		return "", fmt.Errorf("systemd credential %s: $CREDENTIALS_DIRECTORY is not set (LoadCredential= in the unit): %w",
			name, ErrUnavailable)
	}
	return filepath.Join(dir, name), nil
}

// runHelper runs argv with a bounded time and output; stderr is never
// returned because a confused helper might print the secret there.
func runHelper(ctx context.Context, argv []string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = time.Second
	var out limitedBuffer
	cmd.Stdout = &out
	err := cmd.Run()
	if ctx.Err() != nil {
		return "", fmt.Errorf("helper %s did not answer within %s: %w", argv[0], timeout, ErrUnavailable)
	}
	if err != nil {
		return "", fmt.Errorf("helper %s failed: %w: %w", argv[0], err, ErrUnavailable)
	}
	return clean(out.String(), "helper "+argv[0])
}

func clean(v, what string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || strings.ContainsAny(v, "\r\n") {
		return "", fmt.Errorf("%s: want a single non-empty line: %w", what, ErrUnavailable)
	}
	return v, nil
}

// limitedBuffer keeps at most maxHelperOutput bytes, so a runaway helper cannot exhaust memory.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxHelperOutput - b.Len(); room < len(p) {
		b.Buffer.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
