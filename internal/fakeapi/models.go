package fakeapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/airlock-dev/airlock/apierror"
)

// model is the API's Model object.
type model struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"`
}

// models is the fixed catalogue the fake lists.
var models = []model{
	{"model", "claude-opus-4-5", "Claude Opus 4.5", "2025-11-24T00:00:00Z"},
	{"model", "claude-sonnet-4-5", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"},
	{"model", "claude-haiku-4-5", "Claude Haiku 4.5", "2025-10-15T00:00:00Z"},
}

func (s *Server) listModels(w http.ResponseWriter, _ *http.Request, _ *call) {
	body, _ := json.Marshal(map[string]any{"data": models, "has_more": false,
		"first_id": models[0].ID, "last_id": models[len(models)-1].ID})
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) getModel(w http.ResponseWriter, r *http.Request, c *call) {
	id := strings.TrimPrefix(r.URL.Path, "/v1/models/")
	for _, m := range models {
		if m.ID == id {
			body, _ := json.Marshal(m)
			writeJSON(w, http.StatusOK, body)
			return
		}
	}
	apierror.Write(w, http.StatusNotFound, apierror.NotFound, fmt.Sprintf("model: %s", id), c.id)
}

// countTokens answers with the same estimate the Messages usage reports.
func (s *Server) countTokens(w http.ResponseWriter, _ *http.Request, c *call) {
	req, msg := parseCountTokens(c.body)
	if msg != "" {
		apierror.Write(w, http.StatusBadRequest, apierror.InvalidRequest, msg, c.id)
		return
	}
	body, _ := json.Marshal(map[string]int{"input_tokens": req.inputTokens()})
	writeJSON(w, http.StatusOK, body)
}

// parseCountTokens validates like parseMessages, without max_tokens.
func parseCountTokens(body []byte) (*messagesRequest, string) {
	var req messagesRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, "There was an issue with your request body: invalid JSON"
	}
	if req.Model == "" {
		return nil, "model: Field required"
	}
	if len(req.Messages) == 0 {
		return nil, "messages: at least one message is required"
	}
	return &req, ""
}
