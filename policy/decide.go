package policy

import (
	"fmt"
	"maps"
	"path"
	"strings"
	"time"

	"github.com/airlock-dev/airlock/policy/mask"
)

// Decide returns the decision of the first rule whose condition holds, or of
// the default. It counts the request against the matched rule's rate limit.
func (e *Engine) Decide(in *Input) Decision {
	now := in.Time
	if now.IsZero() {
		now = e.now()
	}
	act := newActivation(in, now, e.findings(in.Findings))
	key := e.memo.key(act, in)
	h, ok := e.memo.get(key)
	if !ok {
		var failed *Decision
		if h, failed = e.evaluate(act, in.Request.BodyParsed); failed != nil {
			return *failed // not remembered: it says why, and it is rare
		}
		e.memo.put(key, h)
	}
	return e.conclude(h, in, now)
}

// evaluate runs the request rules' conditions in order; an error ends the
// evaluation with a denial.
func (e *Engine) evaluate(act *activation, bodyParsed bool) (memoHit, *Decision) {
	for i, r := range e.rules {
		if r.cond.needsBody != "" && !bodyParsed {
			return memoHit{rule: i, invalid: true}, nil
		}
		out, _, err := r.cond.prg.Eval(act)
		if err != nil {
			d := evalFailed(r, err)
			return memoHit{}, &d
		}
		if isTrue(out) {
			return memoHit{rule: i}, nil
		}
	}
	return memoHit{rule: -1}, nil
}

// conclude turns what the conditions concluded into the decision.
func (e *Engine) conclude(h memoHit, in *Input, now time.Time) Decision {
	if h.rule < 0 {
		return e.apply(e.def, in, now)
	}
	r := e.rules[h.rule]
	if h.invalid {
		return invalid(r, r.cond.needsBody)
	}
	return e.apply(r, in, now)
}

// zeroFindings maps every known detector to 0. A CEL map lookup of a missing
// key is an error, and an erroring rule denies: without this, a rule such as
// findings["private_key"] > 0 would refuse every clean request.
func zeroFindings(extra []string) map[string]int {
	z := map[string]int{mask.ManagedCredential: 0}
	for _, n := range append(mask.BuiltinNames(), extra...) {
		z[n] = 0
	}
	return z
}

// findings returns what CEL sees as findings: the shared zero map for a
// clean request (no allocation), else a copy with the counts laid over it.
func (e *Engine) findings(counts map[string]int) map[string]int {
	if len(counts) == 0 {
		return e.zero
	}
	f := maps.Clone(e.zero)
	maps.Copy(f, counts)
	return f
}

func newActivation(in *Input, now time.Time, f map[string]int) *activation {
	p := &in.Caller
	q := &in.Request
	return &activation{
		caller: &celCaller{PID: int64(p.PID), UID: int64(p.UID), User: p.User, Exe: p.Exe, Comm: p.Comm,
			Cgroup: p.Cgroup, Unit: p.Unit, ExeName: p.ExeName, ExeChanged: p.ExeChanged, Cwd: p.Cwd,
			Container: celContainer{ID: p.Container, Name: p.ContainerName, Image: p.ContainerImage},
			Pod:       celPod{Namespace: p.PodNamespace, Name: p.PodName, UID: p.PodUID}},
		request: &celRequest{Method: q.Method, Path: q.Path, Model: q.Model, MaxTokens: q.MaxTokens,
			Stream: q.Stream, Tools: q.Tools, Betas: q.Betas, BodySize: q.BodySize},
		embedded: &celEmbedded{Class: in.Embedded},
		time:     now,
		findings: f,
	}
}

// apply turns the matched rule into a decision: its action, then caps,
// masking findings and limits, each of which may turn it into a denial.
func (e *Engine) apply(r *rule, in *Input, now time.Time) Decision {
	s := &r.spec
	d := Decision{Action: s.Action, Rule: s.ID, Reason: s.Reason, Credential: s.Credential,
		Record: s.Record, limits: r.limits}
	if d.Record == "" {
		d.Record = RecordFull
	}
	if s.Mask != nil {
		d.Mask = *s.Mask
	}
	if d.Reason == "" {
		d.Reason = s.Description
	}
	if d.Action == Deny {
		return deny(d, DenyPolicy, fmt.Sprintf("Airlock policy rule %q blocked this request: %s. "+
			"If this program needs it, ask the administrator of this machine to change the Airlock policy.", s.ID, orDefault(d.Reason)))
	}
	if msg, kind := checkCaps(s, &in.Request); msg != "" {
		return deny(d, kind, msg)
	}
	if d = onFindings(d, in.Findings); d.Action == Deny {
		return d
	}
	if r.limits != nil {
		if hit := r.limits.admit(&in.Caller, now); hit != nil {
			d = deny(d, DenyLimit, fmt.Sprintf("Airlock policy rule %q limits this program to %s; retry after %s.",
				s.ID, hit.what, hit.retryAfter.Round(time.Second)))
			d.RetryAfter, d.Denial.RetryAfter = hit.retryAfter, hit.retryAfter
		}
	}
	return d
}

func deny(d Decision, kind DenyKind, msg string) Decision {
	d.Action = Deny
	d.Denial = &Denial{Kind: kind, Rule: d.Rule, Reason: d.Reason, Message: msg}
	return d
}

func orDefault(reason string) string {
	if reason == "" {
		return "the policy does not allow it"
	}
	return strings.TrimRight(reason, ".")
}

// checkCaps enforces the model allowlist and the max_tokens ceiling on
// requests that name a model or max_tokens; a body that should have been JSON
// but is not cannot be checked and is refused.
func checkCaps(s *ruleSpec, q *Request) (string, DenyKind) {
	if len(s.Models) == 0 && s.MaxTokens == 0 {
		return "", ""
	}
	if !q.BodyParsed {
		return fmt.Sprintf("Airlock policy rule %q caps the model and max_tokens, but the request body is not valid JSON; "+
			"send a valid JSON body.", s.ID), DenyInvalid
	}
	if len(s.Models) > 0 && q.Model != "" && !modelAllowed(s.Models, q.Model) {
		return fmt.Sprintf("Airlock policy rule %q does not allow model %q; use one of: %s.",
			s.ID, q.Model, strings.Join(s.Models, ", ")), DenyCap
	}
	if s.MaxTokens > 0 && q.MaxTokens > s.MaxTokens {
		return fmt.Sprintf("Airlock policy rule %q caps max_tokens at %d and this request asked for %d; "+
			"send max_tokens of at most %d.", s.ID, s.MaxTokens, q.MaxTokens, s.MaxTokens), DenyCap
	}
	return "", ""
}

func modelAllowed(patterns []string, model string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, model); ok {
			return true
		}
	}
	return false
}

// onFindings applies mask.on_match when the first masking pass found
// something the rule's request detectors cover.
func onFindings(d Decision, findings map[string]int) Decision {
	if d.Mask.OnMatch == "" || d.Mask.OnMatch == "mask" {
		return d
	}
	n, names := 0, []string{}
	for det, c := range findings {
		if c > 0 && (len(d.Mask.Request) == 0 || contains(d.Mask.Request, det)) {
			n += c
			names = append(names, det)
		}
	}
	if n == 0 {
		return d
	}
	if Action(d.Mask.OnMatch) == RequireApproval {
		d.Action = RequireApproval
		return d
	}
	return deny(d, DenyPolicy, fmt.Sprintf("Airlock policy rule %q blocks requests containing sensitive data "+
		"(%d found by: %s); remove it from the prompt and try again.", d.Rule, n, strings.Join(sorted(names), ", ")))
}

func invalid(r *rule, field string) Decision {
	d := Decision{Action: Deny, Rule: r.spec.ID, Reason: r.spec.Reason, Record: RecordFull}
	return deny(d, DenyInvalid, fmt.Sprintf("Airlock policy rule %q needs %s, but the request body is not valid JSON "+
		"(or lacks it); send a valid JSON request body.", r.spec.ID, field))
}

func evalFailed(r *rule, err error) Decision {
	d := Decision{Action: Deny, Rule: r.spec.ID, Reason: r.spec.Reason, Record: RecordFull}
	return deny(d, DenyError, fmt.Sprintf("Airlock policy rule %q could not be evaluated (%v), so the request was "+
		"blocked; tell the administrator of this machine.", r.spec.ID, err))
}
