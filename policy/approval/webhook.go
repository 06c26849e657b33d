package approval

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	webhookTimeout = 10 * time.Second // per delivery
)

// notifier delivers announcements in the background: a slow or failing
// webhook never delays the hold itself.
type notifier struct {
	hooks  []Webhook
	log    *zap.Logger
	client *http.Client
	slots  chan struct{}
	wg     sync.WaitGroup
}

func newNotifier(hooks []Webhook, log *zap.Logger) *notifier {
	return &notifier{
		hooks:  hooks,
		log:    log,
		client: &http.Client{Timeout: webhookTimeout},
		slots:  make(chan struct{}, maxInFlight),
	}
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
			if err := n.deliver(h, p); err != nil {
				n.log.Warn("webhook delivery failed", zap.String("url", h.URL), zap.String("approval_id", p.ID), zap.Error(err))
			}
		}(h)
	}
}

// close waits for in-flight deliveries (each bounded by webhookTimeout).
func (n *notifier) close() { n.wg.Wait() }

func (n *notifier) deliver(h Webhook, p Pending) error {
	body, err := WebhookBody(h.Format, p)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), webhookTimeout)
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
		return fmt.Errorf("webhook answered %s", resp.Status)
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
