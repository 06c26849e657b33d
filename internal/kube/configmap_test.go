package kube

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeAPI keeps ConfigMaps the way the API server does for the calls
// PublishCA makes: merge patches on existing ones, 404 on missing ones,
// 409 on creating one twice, 401 without the token.
type fakeAPI struct {
	mu    sync.Mutex
	maps  map[string]map[string]string // namespace/name -> data
	calls []string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if r.Header.Get("Authorization") != "Bearer FAKE-sa-token" {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	var body struct {
		Metadata struct{ Name, Namespace string }
		Data     map[string]string
	}
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	const coll = "/api/v1/namespaces/agents/configmaps"
	switch {
	case r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, coll+"/"):
		f.patch(w, r, strings.TrimPrefix(r.URL.Path, coll+"/"), body.Data)
	case r.Method == http.MethodPost && r.URL.Path == coll:
		if _, ok := f.maps[body.Metadata.Name]; ok {
			http.Error(w, "AlreadyExists", http.StatusConflict)
			return
		}
		f.maps[body.Metadata.Name] = body.Data
		w.WriteHeader(http.StatusCreated)
	default:
		http.Error(w, "NotFound", http.StatusNotFound)
	}
}

func (f *fakeAPI) patch(w http.ResponseWriter, r *http.Request, name string, data map[string]string) {
	if r.Header.Get("Content-Type") != "application/merge-patch+json" {
		http.Error(w, "UnsupportedMediaType", http.StatusUnsupportedMediaType)
		return
	}
	m, ok := f.maps[name]
	if !ok {
		http.Error(w, "NotFound", http.StatusNotFound)
		return
	}
	for k, v := range data {
		m[k] = v
	}
}

func newFake(t *testing.T, token string) (*fakeAPI, *Client) {
	f := &fakeAPI{maps: map[string]map[string]string{}}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	return f, &Client{Base: srv.URL, HTTP: srv.Client(), Token: func() (string, error) { return token, nil }}
}

// Two nodes publish their CAs: the first creates the ConfigMap, the second
// adds its key, a rotation replaces only its own key.
func TestPublishCA(t *testing.T) {
	f, c := newFake(t, "FAKE-sa-token")
	ctx := context.Background()
	for _, p := range []struct{ node, pem string }{{"node-a", "A1"}, {"node-b", "B1"}, {"node-a", "A2"}} {
		if err := c.PublishCA(ctx, "agents", "airlock-ca", p.node+".crt", []byte(p.pem)); err != nil {
			t.Fatalf("PublishCA %s: %v", p.node, err)
		}
	}
	got := f.maps["airlock-ca"]
	if len(got) != 2 || got["node-a.crt"] != "A2" || got["node-b.crt"] != "B1" {
		t.Errorf("ConfigMap data %v, want node-a.crt=A2 and node-b.crt=B1", got)
	}
	want := []string{"PATCH /api/v1/namespaces/agents/configmaps/airlock-ca", "POST /api/v1/namespaces/agents/configmaps",
		"PATCH /api/v1/namespaces/agents/configmaps/airlock-ca", "PATCH /api/v1/namespaces/agents/configmaps/airlock-ca"}
	if strings.Join(f.calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls %q, want %q", f.calls, want)
	}
}

// A refusal (a wrong token, a namespace that does not exist) is an error
// naming the status, never a silent success.
func TestPublishCAErrors(t *testing.T) {
	_, c := newFake(t, "FAKE-wrong-token")
	err := c.PublishCA(context.Background(), "agents", "airlock-ca", "n.crt", []byte("X"))
	if !hasStatus(err, http.StatusUnauthorized) {
		t.Errorf("with a wrong token: %v, want 401", err)
	}
	_, c = newFake(t, "FAKE-sa-token")
	err = c.PublishCA(context.Background(), "missing", "airlock-ca", "n.crt", []byte("X"))
	if !hasStatus(err, http.StatusNotFound) {
		t.Errorf("in a missing namespace: %v, want 404", err)
	}
}
