package containers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/caller"
)

// DefaultSockets are the Docker-compatible API sockets asked for a
// container's name and image: Docker's and rootful podman's.
var DefaultSockets = []string{"/var/run/docker.sock", "/run/podman/podman.sock"}

// Info is a container as its runtime describes it.
type Info struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Image string `json:"image,omitempty"`
	PID   int    `json:"pid,omitempty"` // its init process, in the host's pid namespace
	// Under Kubernetes (from the CRI runtime's kubelet labels).
	PodNamespace string `json:"pod_namespace,omitempty"`
	PodName      string `json:"pod_name,omitempty"`
	PodUID       string `json:"pod_uid,omitempty"`
}

// ErrNotFound is returned when no runtime socket knows the container.
var ErrNotFound = errors.New("container not found by any runtime")

// Runtimes asks the Docker Engine API (Docker, podman) over unix sockets,
// then the CRI runtimes (containerd, CRI-O) when WithCRI named them, and
// remembers the answers: a container's name and image do not change.
type Runtimes struct {
	sockets []string
	cri     []string
	log     *zap.Logger
	mu      sync.Mutex
	cache   map[string]cached
}

type cached struct {
	info Info
	err  error
	at   time.Time
}

const (
	cacheMax    = 4096
	negativeTTL = 5 * time.Second // a container may be asked about before its runtime knows it
	askTimeout  = time.Second
)

// NewRuntimes asks the given sockets (DefaultSockets when empty) in order.
func NewRuntimes(sockets []string, log *zap.Logger) *Runtimes {
	if len(sockets) == 0 {
		sockets = DefaultSockets
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Runtimes{sockets: sockets, log: log.Named("containers"), cache: map[string]cached{}}
}

// WithCRI makes r also ask these CRI sockets (by container id) for a
// container no Docker-compatible socket knows. Call before use.
func (r *Runtimes) WithCRI(sockets []string) *Runtimes {
	r.cri = sockets
	return r
}

// Inspect describes the container with this id or name.
func (r *Runtimes) Inspect(ctx context.Context, ref string) (Info, error) {
	r.mu.Lock()
	c, ok := r.cache[ref]
	r.mu.Unlock()
	if ok && (c.err == nil || time.Since(c.at) < negativeTTL) {
		return c.info, c.err
	}
	info, err := r.ask(ctx, ref)
	r.mu.Lock()
	if len(r.cache) >= cacheMax {
		clear(r.cache)
	}
	r.cache[ref] = cached{info: info, err: err, at: time.Now()}
	r.mu.Unlock()
	return info, err
}

func (r *Runtimes) ask(ctx context.Context, ref string) (Info, error) {
	errs := []error{ErrNotFound}
	for _, sock := range r.sockets {
		if _, err := os.Stat(sock); err != nil {
			continue
		}
		info, err := inspect(ctx, sock, ref)
		if err == nil {
			return info, nil
		}
		errs = append(errs, err)
	}
	for _, sock := range r.cri {
		if _, err := os.Stat(sock); err != nil {
			continue
		}
		info, err := criInspect(ctx, sock, ref)
		if err == nil {
			return info, nil
		}
		errs = append(errs, err)
	}
	return Info{}, fmt.Errorf("inspecting container %s: %w", ref, errors.Join(errs...))
}

// List returns the ids of the running containers every socket knows.
func (r *Runtimes) List(ctx context.Context) ([]string, error) {
	var ids []string
	var errs []error
	for _, sock := range r.sockets {
		if _, err := os.Stat(sock); err != nil {
			continue
		}
		var list []struct {
			ID string `json:"Id"`
		}
		if err := get(ctx, sock, "/containers/json", &list); err != nil {
			errs = append(errs, err)
			continue
		}
		for _, c := range list {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) == 0 && len(errs) > 0 {
		return nil, fmt.Errorf("listing containers: %w", errors.Join(errs...))
	}
	return ids, nil
}

// get decodes the JSON answer to GET path on one API socket.
func get(ctx context.Context, sock, path string, into any) error {
	ctx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://runtime"+path, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", sock, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", sock, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		return fmt.Errorf("%s: decoding: %w", sock, err)
	}
	return nil
}

// inspect is GET /containers/{ref}/json on one socket.
func inspect(ctx context.Context, sock, ref string) (Info, error) {
	var body struct {
		ID     string                 `json:"Id"`
		Name   string                 `json:"Name"`
		Config struct{ Image string } `json:"Config"`
		State  struct{ Pid int }      `json:"State"`
	}
	if err := get(ctx, sock, "/containers/"+url.PathEscape(ref)+"/json", &body); err != nil {
		return Info{}, err
	}
	return Info{ID: body.ID, Name: strings.TrimPrefix(body.Name, "/"), Image: body.Config.Image, PID: body.State.Pid}, nil
}

// Name fills in p's container name and image from the runtimes, when p runs
// in a container they know. Best effort: the id from the cgroup path stays.
func (r *Runtimes) Name(ctx context.Context, p *caller.Process) {
	if p.Container == "" {
		return
	}
	info, err := r.Inspect(ctx, p.Container)
	if err != nil {
		r.log.Debug("naming a container", zap.String("container", p.Container), zap.Error(err))
		return
	}
	p.ContainerName, p.ContainerImage = info.Name, info.Image
	if info.PodName != "" {
		p.PodNamespace, p.PodName, p.PodUID = info.PodNamespace, info.PodName, info.PodUID
	}
}
