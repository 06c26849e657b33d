package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/airlock-dev/airlock/caller"
)

// CheckFile validates the policy at path and returns every problem found,
// with its position; none means the policy compiles.
func CheckFile(path string) []Problem {
	src, err := os.ReadFile(path)
	if err != nil {
		return []Problem{{0, 0, err.Error()}}
	}
	return Check(src)
}

// Check validates a policy held in memory.
func Check(src []byte) []Problem {
	_, err := Compile(src, Options{})
	var ps Problems
	if errors.As(err, &ps) {
		return ps
	}
	if err != nil {
		return []Problem{{1, 1, err.Error()}}
	}
	return nil
}

// Sample is a request described offline, for `airlock policy test`:
//
//	{"caller": {"uid": 1000, "exe": "/usr/bin/node"},
//	 "request": {"method": "POST", "path": "/v1/messages"},
//	 "body": {"model": "claude-sonnet-4-5", "max_tokens": 1024},
//	 "embedded": "api_key", "time": "2026-11-29T10:00:00Z", "findings": {"aws": 1}}
//
// When body is given, the request's model, max_tokens, stream and tools come
// from it, as the gateway would parse them; otherwise from request. With
// "action": {"tool": "Bash", "input": {"command": "rm -rf build"}} the sample
// is a tool call of the answer to that request, decided by the action rules.
type Sample struct {
	Caller   caller.Process  `json:"caller"`
	Request  Request         `json:"request"`
	Body     json.RawMessage `json:"body,omitempty"`
	Embedded string          `json:"embedded"`
	Time     time.Time       `json:"time"`
	Findings map[string]int  `json:"findings"`
	Action   *Act            `json:"action,omitempty"` // a tool call of the answer: decided by the on: action rules
}

// ParseSample turns a Sample's JSON into an Input.
func ParseSample(data []byte) (*Input, error) {
	var s Sample
	s.Request.BodyParsed = true
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("parsing sample request: %w", err)
	}
	in := &Input{Caller: s.Caller, Request: s.Request, Embedded: s.Embedded, Time: s.Time, Findings: s.Findings}
	if in.Request.Method == "" {
		in.Request.Method = "POST"
	}
	if in.Request.Path == "" {
		in.Request.Path = "/v1/messages"
	}
	if in.Embedded == "" {
		in.Embedded = "none"
	}
	if len(s.Body) > 0 {
		ParseBody(s.Body, &in.Request)
	}
	return in, nil
}

// Evaluate decides a sample against a fresh copy of the engine's rules, so
// an offline test never touches live limit state.
func Evaluate(policySrc, sample []byte) (Decision, error) {
	e, err := Compile(policySrc, Options{})
	if err != nil {
		return Decision{}, err
	}
	in, err := ParseSample(sample)
	if err != nil {
		return Decision{}, err
	}
	var s Sample
	if json.Unmarshal(sample, &s) == nil && s.Action != nil {
		return e.DecideAction(in, s.Action), nil
	}
	return e.Decide(in), nil
}

// EvaluateFile is Evaluate for a policy file, for `airlock policy test FILE`.
func EvaluateFile(path string, sample []byte) (Decision, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return Decision{}, fmt.Errorf("reading policy: %w", err)
	}
	return Evaluate(src, sample)
}
