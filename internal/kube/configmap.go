// Package kube is the little of the Kubernetes API airlockd uses, spoken
// over plain HTTPS as the pod's service account: publishing the node's CA
// certificate in a ConfigMap that workload pods mount. client-go would
// bring hundreds of packages for two requests.
package kube

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// The service account's credentials, as the kubelet mounts them in a pod.
const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// Client calls one API server with a bearer token.
type Client struct {
	Base  string // https://host:port
	Token func() (string, error)
	HTTP  *http.Client
}

// InCluster is the Client of a pod: the API server from
// KUBERNETES_SERVICE_HOST/PORT, trusted through the service account's CA,
// and its token, re-read on each call (the kubelet rotates it).
func InCluster() (*Client, error) {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, errors.New("not in a Kubernetes pod: KUBERNETES_SERVICE_HOST/PORT unset")
	}
	pem, err := os.ReadFile(saDir + "/ca.crt")
	if err != nil {
		return nil, fmt.Errorf("reading the service account's CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("the service account's ca.crt holds no certificate")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	token := func() (string, error) {
		b, err := os.ReadFile(saDir + "/token")
		return strings.TrimSpace(string(b)), err
	}
	return &Client{Base: "https://" + net.JoinHostPort(host, port), Token: token,
		HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}}, nil
}

// PublishCA puts caPEM under key in ConfigMap namespace/name, creating it
// when missing. Only that key is written (a JSON merge patch), so every
// node's daemon keeps its own CA in the same ConfigMap without races.
func (c *Client) PublishCA(ctx context.Context, namespace, name, key string, caPEM []byte) error {
	data := map[string]string{key: string(caPEM)}
	coll := "/api/v1/namespaces/" + url.PathEscape(namespace) + "/configmaps"
	patch, _ := json.Marshal(map[string]any{"data": data})
	err := c.do(ctx, http.MethodPatch, coll+"/"+url.PathEscape(name), "application/merge-patch+json", patch)
	if !hasStatus(err, http.StatusNotFound) {
		return err
	}
	obj, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]string{"name": name, "namespace": namespace}, "data": data})
	err = c.do(ctx, http.MethodPost, coll, "application/json", obj)
	if hasStatus(err, http.StatusConflict) { // another node created it meanwhile
		err = c.do(ctx, http.MethodPatch, coll+"/"+url.PathEscape(name), "application/merge-patch+json", patch)
	}
	return err
}

// StatusError is an API server's refusal.
type StatusError struct {
	Code int
	Msg  string
}

func (e *StatusError) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Msg) }

func hasStatus(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}

// do sends one request; an answer other than 2xx is a *StatusError.
func (c *Client) do(ctx context.Context, method, path, ctype string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	tok, err := c.Token()
	if err != nil {
		return fmt.Errorf("reading the service account token: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", ctype)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return fmt.Errorf("%s %s: %w", method, path, &StatusError{Code: resp.StatusCode, Msg: string(bytes.TrimSpace(msg))})
}
