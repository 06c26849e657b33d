package credential

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/airlock-dev/airlock/internal/testutil"
)

func writeFile(t *testing.T, path, v string, mode os.FileMode) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(v), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestSources(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "key"), fakeValue+"\n", 0o600)
	writeFile(t, filepath.Join(dir, "open"), fakeValue, 0o644)
	writeFile(t, filepath.Join(dir, "sysd"), "sk-ant-api03-FAKE-systemd", 0o400)
	t.Setenv("AIRLOCK_TEST_KEY", "sk-ant-api03-FAKE-env")
	t.Setenv("CREDENTIALS_DIRECTORY", dir)
	s, err := NewStore(Config{Credentials: []Spec{
		{Name: "file", Kind: KindAPIKey, File: filepath.Join(dir, "key")},
		{Name: "open", Kind: KindAPIKey, File: filepath.Join(dir, "open")},
		{Name: "env", Kind: KindBearer, Env: "AIRLOCK_TEST_KEY"},
		{Name: "sysd", Kind: KindAPIKey, Systemd: "sysd"},
		{Name: "helper", Kind: KindAPIKey, Command: []string{"echo", "sk-ant-api03-FAKE-helper"}},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"": fakeValue, "file": fakeValue, "env": "sk-ant-api03-FAKE-env",
		"sysd": "sk-ant-api03-FAKE-systemd", "helper": "sk-ant-api03-FAKE-helper"} {
		c, err := s.Get(context.Background(), name)
		if err != nil || c.Secret.Reveal() != want {
			t.Errorf("%q: %v %q", name, err, c.Secret.Reveal())
		}
	}
	_, err = s.Get(context.Background(), "open")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "must not be readable by group or others") {
		t.Errorf("world-readable file: %v", err)
	}
	if strings.Contains(err.Error(), "FAKE") {
		t.Errorf("error leaks the value: %v", err)
	}
	if n := len(s.Values()); n != 4 { // file, env, sysd, and the helper's cached output
		t.Errorf("Values() has %d entries", n)
	}
}

func TestApply(t *testing.T) {
	h := http.Header{}
	Credential{Kind: KindBearer, Secret: NewSecret("tok")}.Apply(h)
	Credential{Kind: KindAPIKey, Secret: NewSecret("key")}.Apply(h)
	if h.Get("Authorization") != "Bearer tok" || h.Get("X-Api-Key") != "key" {
		t.Errorf("%v", h)
	}
}

func TestInvalidConfig(t *testing.T) {
	_, err := NewStore(Config{Default: "nope", Credentials: []Spec{
		{Name: "a", Kind: "token", Env: "X"},
		{Name: "b", Kind: KindAPIKey},
		{Name: "c", Kind: KindAPIKey, Env: "X", File: "/y"},
	}}, nil)
	for _, want := range []string{`kind "token"`, "0 sources", "2 sources", `default credential "nope"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

func TestHelperCachedForTTL(t *testing.T) {
	dir := t.TempDir()
	counter := filepath.Join(dir, "runs")
	script := "echo x >> " + counter + "; echo sk-ant-api03-FAKE-$(wc -l < " + counter + " | tr -d ' ')"
	s, err := NewStore(Config{Credentials: []Spec{{Name: "h", Kind: KindAPIKey, Command: []string{"sh", "-c", script}, TTL: time.Hour}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	s.Subscribe(func(v []Secret) { seen = append(seen, strings.Join(Reveal(v), ",")) })
	for range 3 {
		c, err := s.Get(context.Background(), "h")
		if err != nil || c.Secret.Reveal() != "sk-ant-api03-FAKE-1" {
			t.Fatalf("%v %q", err, c.Secret.Reveal())
		}
	}
	s.Reload() // drops the cache
	if c, _ := s.Get(context.Background(), "h"); c.Secret.Reveal() != "sk-ant-api03-FAKE-2" {
		t.Errorf("after reload: %q", c.Secret.Reveal())
	}
	if last := seen[len(seen)-1]; last != "sk-ant-api03-FAKE-2" {
		t.Errorf("subscriber saw %q", seen)
	}
}

func TestWatchReloadsOnFileChange(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	writeFile(t, path, "sk-ant-api03-FAKE-one", 0o600)
	s, err := NewStore(Config{Credentials: []Spec{{Name: "f", Kind: KindAPIKey, File: path}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Watch(ctx) }()
	defer func() { cancel(); <-done }()
	testutil.Eventually(t, 30*time.Second, "the file change picked up", func() bool { // a hang guard only
		writeFile(t, path, "sk-ant-api03-FAKE-two", 0o600) // rewritten until the watcher (started asynchronously) sees it
		c, _ := s.Get(ctx, "f")
		return c.Secret.Reveal() == "sk-ant-api03-FAKE-two"
	})
}

// A helper's value is cached for its TTL and the helper runs again once the
// TTL has passed; a failing helper is retried after a short pause, not on
// every request. Simulated time (testing/synctest): an hour passes at once.
func TestHelperRefreshedAfterTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		counter, fail := filepath.Join(dir, "runs"), filepath.Join(dir, "fail")
		script := "[ -e " + fail + " ] && exit 1; echo x >> " + counter + "; echo sk-ant-api03-FAKE-$(wc -l < " + counter + " | tr -d ' ')"
		s, err := NewStore(Config{Credentials: []Spec{{Name: "h", Kind: KindAPIKey, Command: []string{"sh", "-c", script}, TTL: time.Hour}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		get := func() (string, error) {
			c, err := s.Get(context.Background(), "h")
			return c.Secret.Reveal(), err
		}
		if v, err := get(); err != nil || v != "sk-ant-api03-FAKE-1" {
			t.Fatalf("first run: %q, %v", v, err)
		}
		time.Sleep(59 * time.Minute)
		if v, err := get(); err != nil || v != "sk-ant-api03-FAKE-1" {
			t.Fatalf("inside the TTL: %q, %v", v, err)
		}
		time.Sleep(2 * time.Minute)
		if v, err := get(); err != nil || v != "sk-ant-api03-FAKE-2" {
			t.Fatalf("after the TTL: %q, %v (want the helper run again)", v, err)
		}
		writeFile(t, fail, "", 0o600)
		time.Sleep(time.Hour + time.Second)
		if _, err := get(); err == nil {
			t.Fatal("a failing helper's run was not reported")
		}
		os.Remove(fail)
		if _, err := get(); err == nil {
			t.Fatal("the failure was not cached: the helper ran again at once")
		}
		time.Sleep(5 * time.Second)
		if v, err := get(); err != nil || v != "sk-ant-api03-FAKE-3" {
			t.Fatalf("5s after a failure: %q, %v (want a new run)", v, err)
		}
	})
}
