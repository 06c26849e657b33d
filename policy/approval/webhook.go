package approval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Webhook is an endpoint told about each new pending approval.
type Webhook struct {
	URL    string
	Format string // "json" (default) or "slack" ({"text": ...})
}

const (
	maxInFlight    = 16               // deliveries beyond this are dropped (and logged), never queued
	webhookTimeout = 10 * time.Second // per attempt
	maxAttempts    = 4                // a missed announcement means a held request times out
	firstBackoff   = 500 * time.Millisecond
	maxBackoff     = 8 * time.Second
)

// notifier delivers announcements in the background: a slow or failing
// webhook never delays the hold itself.
type notifier struct {
	hooks   []Webhook
	log     *zap.Logger
	client  *http.Client
	slots   chan struct{}
	wg      sync.WaitGroup
	ctx     context.Context // cancelled at close: retries stop
	cancel  context.CancelFunc
	backoff func(attempt int) time.Duration
}

func newNotifier(hooks []Webhook, log *zap.Logger) *notifier {
	ctx, cancel := context.WithCancel(context.Background())
	return &notifier{
		hooks:   hooks,
		log:     log,
		client:  &http.Client{Timeout: webhookTimeout},
		slots:   make(chan struct{}, maxInFlight),
		ctx:     ctx,
		cancel:  cancel,
		backoff: jitteredBackoff,
	}
}

// jitteredBackoff is "full jitter": a random wait up to an exponentially
// growing, capped bound, so webhooks that failed together do not retry
// together.
func jitteredBackoff(attempt int) time.Duration {
	bound := min(firstBackoff<<attempt, maxBackoff)
	return rand.N(bound) + time.Millisecond
}

func (n *notifier) announce(p Pending) {
	for _, h := range n.hooks {
		select {
		case n.slots <- struct{}{}:
		default:
			n.log.Warn("webhook backlog full, announcement dropped", zap.String("url", h.URL), zap.String("approval_id", p.ID))
			continue
		}
		n.wg.Add(1)
		go func(h Webhook) {
			defer func() { <-n.slots; n.wg.Done() }()
			if err := n.deliverWithRetry(h, p); err != nil {
				n.log.Warn("webhook delivery failed", zap.String("url", h.URL), zap.String("approval_id", p.ID), zap.Error(err))
			}
		}(h)
	}
}

// close stops retries and waits for in-flight deliveries.
func (n *notifier) close() {
	n.cancel()
	n.wg.Wait()
}

// deliverWithRetry tries up to maxAttempts times, with jittered backoff
// between tries, while the failure may pass (no answer, 5xx, 429).
func (n *notifier) deliverWithRetry(h Webhook, p Pending) error {
	body, err := WebhookBody(h.Format, p)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err = n.deliver(h, body)
		if err == nil || !retryable(err) || attempt+1 == maxAttempts {
			return err
		}
		select {
		case <-n.ctx.Done():
			return fmt.Errorf("daemon stopping after %d attempts: %w", attempt+1, err)
		case <-time.After(n.backoff(attempt)):
		}
	}
}

// statusError is a webhook's non-2xx answer.
type statusError struct{ code int }

func (e statusError) Error() string { return fmt.Sprintf("webhook answered %d", e.code) }

func retryable(err error) bool {
	var se statusError
	if errors.As(err, &se) {
		return se.code >= 500 || se.code == http.StatusTooManyRequests
	}
	return true // no answer at all
}

func (n *notifier) deliver(h Webhook, body []byte) error {
	ctx, cancel := context.WithTimeout(n.ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		return fmt.Errorf("posting webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return statusError{resp.StatusCode}
	}
	return nil
}

// Announcement is the generic JSON webhook body.
type Announcement struct {
	Event   string  `json:"event"` // "approval.pending"
	Pending Pending `json:"approval"`
	Text    string  `json:"text"`
}

// WebhookBody renders the body sent to a webhook of the given format.
func WebhookBody(format string, p Pending) ([]byte, error) {
	text := announcementText(p)
	switch format {
	case "", "json":
		return json.Marshal(Announcement{Event: "approval.pending", Pending: p, Text: text})
	case "slack":
		return json.Marshal(map[string]string{"text": text})
	default:
		return nil, fmt.Errorf("unknown webhook format %q (want json or slack)", format)
	}
}

func announcementText(p Pending) string {
	r := p.Request
	who := fmt.Sprintf("uid %d", r.Caller.UID)
	if r.Caller.User != "" {
		who = fmt.Sprintf("%s (uid %d)", r.Caller.User, r.Caller.UID)
	}
	return fmt.Sprintf("Airlock is holding a request for approval: %s %s (model %s) from %s, %s, rule %q: %s. "+
		"Expires %s. To approve run: %s  (or deny: airlock approvals deny %s)",
		r.Method, r.Path, r.Model, who, r.Caller.Exe, r.Rule, r.Reason,
		p.Expires.UTC().Format(time.RFC3339), p.Command, p.ID)
}
