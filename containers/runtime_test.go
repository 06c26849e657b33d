package containers

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/airlock-dev/airlock/caller"
)

// fakeRuntime serves the Docker Engine API's inspect for one container.
func fakeRuntime(t *testing.T, asked *atomic.Int64) string {
	sock := filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containers/{ref}/json", func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if r.PathValue("ref") != id64 && r.PathValue("ref") != "agent" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"Id":"` + id64 + `","Name":"/agent","Config":{"Image":"legacy-agent:1.2"},"State":{"Pid":4242}}`))
	})
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return sock
}

func TestRuntimesName(t *testing.T) {
	var asked atomic.Int64
	rt := NewRuntimes([]string{filepath.Join(t.TempDir(), "absent.sock"), fakeRuntime(t, &asked)}, nil)
	for range 3 {
		p := caller.Process{Container: id64}
		rt.Name(context.Background(), &p)
		if p.ContainerName != "agent" || p.ContainerImage != "legacy-agent:1.2" {
			t.Fatalf("named %+v, want agent / legacy-agent:1.2", p)
		}
	}
	if asked.Load() != 1 {
		t.Errorf("runtime asked %d times, want once (cached)", asked.Load())
	}
	info, err := rt.Inspect(context.Background(), "agent")
	if err != nil || info.ID != id64 || info.PID != 4242 {
		t.Errorf("Inspect(agent) = %+v, %v", info, err)
	}
	p := caller.Process{Container: "ffff" + id64[4:]}
	rt.Name(context.Background(), &p)
	if p.ContainerName != "" {
		t.Errorf("unknown container named %q", p.ContainerName)
	}
}
