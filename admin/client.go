package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/policy/approval"
)

// APIError is a non-2xx answer from the admin API.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("admin API: %d %s", e.Status, e.Message) }

// IsNotFound reports whether err is a 404 from the admin API.
func IsNotFound(err error) bool {
	var e *APIError
	return asAPIError(err, &e) && e.Status == http.StatusNotFound
}

// Client talks to the admin API; one method per endpoint.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// NewClient connects over the Unix socket at socketPath ("" = DefaultSocketPath).
func NewClient(socketPath string) *Client {
	if socketPath == "" {
		socketPath = DefaultSocketPath
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", socketPath)
	}}
	return &Client{base: "http://airlock", http: &http.Client{Transport: tr}}
}

// NewTCPClient connects to the optional TCP listener (baseURL like "http://127.0.0.1:7443").
func NewTCPClient(baseURL, token string) *Client {
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: &http.Client{}}
}

func (c *Client) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin API %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var eb errorBody
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(raw, &eb) != nil || eb.Error == "" {
			eb.Error = strings.TrimSpace(string(raw))
		}
		return nil, &APIError{Status: resp.StatusCode, Message: eb.Error}
	}
	return resp, nil
}

func (c *Client) getJSON(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decoding admin API answer for %s: %w", path, err)
	}
	return nil
}

// Status returns GET /v1/status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var out Status
	return out, c.getJSON(ctx, http.MethodGet, "/v1/status", nil, &out)
}

// Approvals lists pending approvals.
func (c *Client) Approvals(ctx context.Context) ([]approval.Pending, error) {
	var out []approval.Pending
	return out, c.getJSON(ctx, http.MethodGet, "/v1/approvals", nil, &out)
}

// Approval returns one pending approval.
func (c *Client) Approval(ctx context.Context, id string) (approval.Pending, error) {
	var out approval.Pending
	return out, c.getJSON(ctx, http.MethodGet, "/v1/approvals/"+url.PathEscape(id), nil, &out)
}

// Approve approves id; window > 0 also opens a just-in-time window.
func (c *Client) Approve(ctx context.Context, id, reason string, window time.Duration) (DecisionResult, error) {
	d := Decision{Reason: reason}
	if window > 0 {
		d.For = window.String()
	}
	var out DecisionResult
	return out, c.getJSON(ctx, http.MethodPost, "/v1/approvals/"+url.PathEscape(id)+"/approve", d, &out)
}

// Deny denies id.
func (c *Client) Deny(ctx context.Context, id, reason string) (DecisionResult, error) {
	var out DecisionResult
	return out, c.getJSON(ctx, http.MethodPost, "/v1/approvals/"+url.PathEscape(id)+"/deny", Decision{Reason: reason}, &out)
}

func filterQuery(f audit.Filter) string {
	q := url.Values{}
	for k, v := range map[string]string{"caller": f.Caller, "model": f.Model, "decision": f.Decision, "session": f.Session} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.UTC().Format(time.RFC3339Nano))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// Audit lists audit records matching f, oldest first.
func (c *Client) Audit(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	var out []audit.Record
	return out, c.getJSON(ctx, http.MethodGet, "/v1/audit"+filterQuery(f), nil, &out)
}

// Export streams the records matching f to w as JSON lines.
func (c *Client) Export(ctx context.Context, f audit.Filter, w io.Writer) error {
	q := filterQuery(f)
	if q == "" {
		q = "?format=jsonl"
	} else {
		q += "&format=jsonl"
	}
	return c.stream(ctx, "/v1/audit"+q, w)
}

// AuditRecord returns one record with its recording.
func (c *Client) AuditRecord(ctx context.Context, id int64) (audit.Entry, error) {
	var out audit.Entry
	return out, c.getJSON(ctx, http.MethodGet, "/v1/audit/"+strconv.FormatInt(id, 10), nil, &out)
}

// Verify checks the audit chain.
func (c *Client) Verify(ctx context.Context) (audit.VerifyReport, error) {
	var out audit.VerifyReport
	return out, c.getJSON(ctx, http.MethodGet, "/v1/audit/verify", nil, &out)
}

// Sessions lists sessions, most recent first.
func (c *Client) Sessions(ctx context.Context, f audit.SessionFilter) ([]audit.Session, error) {
	q := url.Values{}
	if f.Caller != "" {
		q.Set("caller", f.Caller)
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	path := "/v1/sessions"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out []audit.Session
	return out, c.getJSON(ctx, http.MethodGet, path, nil, &out)
}

// Session returns a session with its records and recordings
// (transcript.RenderSession prints it readably).
func (c *Client) Session(ctx context.Context, id string) (audit.SessionDetail, error) {
	var out audit.SessionDetail
	return out, c.getJSON(ctx, http.MethodGet, "/v1/sessions/"+url.PathEscape(id), nil, &out)
}

// Replay streams the session's recorded responses to w at the recorded pace / speed.
func (c *Client) Replay(ctx context.Context, id string, speed float64, w io.Writer) error {
	path := "/v1/sessions/" + url.PathEscape(id) + "/replay?speed=" + strconv.FormatFloat(speed, 'g', -1, 64)
	return c.stream(ctx, path, w)
}

// Metrics writes the Prometheus text exposition to w.
func (c *Client) Metrics(ctx context.Context, w io.Writer) error { return c.stream(ctx, "/metrics", w) }

func (c *Client) stream(ctx context.Context, path string, w io.Writer) error {
	resp, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}

func asAPIError(err error, target **APIError) bool { return errors.As(err, target) }

// ConsoleLink asks the daemon for a one-time web console sign-in link (root only).
func (c *Client) ConsoleLink(ctx context.Context) (ConsoleLink, error) {
	var out ConsoleLink
	return out, c.getJSON(ctx, http.MethodPost, "/v1/console/link", nil, &out)
}
