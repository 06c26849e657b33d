package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// gateJSON decides the tool_use blocks of a whole (non-streamed) Messages
// answer as the action gate does a stream's: each is kept, or replaced by a
// text block saying which rule refused it; an approval is waited for before
// the answer goes out (a JSON answer cannot ping). It returns the verdicts
// for the record.
func (g *Gateway) gateJSON(ctx context.Context, ex *exchange, body []byte) ([]byte, map[string]verdict, error) {
	if !ex.engine.HasActionRules() || !bytes.Contains(body, []byte("tool")) && !bytes.Contains(body, []byte(`\u`)) {
		return body, nil, nil
	}
	if err := plainJSON(body); err != nil {
		return nil, nil, err
	}
	verdicts := map[string]verdict{}
	passed, refused := 0, 0
	for i, blk := range gjson.GetBytes(body, "content").Array() {
		if blk.Get("type").String() != "tool_use" {
			continue
		}
		b := &heldBlock{id: blk.Get("id").String(), name: blk.Get("name").String(), start: []byte(blk.Get("input").Raw)}
		v := g.judgeNow(ctx, ex, b)
		verdicts[b.id] = v
		if v.allowed() {
			passed++
			continue
		}
		refused++
		ex.recordRefused(b, v)
		text, _ := json.Marshal(map[string]string{"type": "text", "text": v.message})
		body, _ = sjson.SetRawBytes(body, "content."+strconv.Itoa(i), text)
	}
	if refused > 0 && passed == 0 && gjson.GetBytes(body, "stop_reason").String() == "tool_use" {
		body, _ = sjson.SetBytes(body, "stop_reason", "end_turn")
	}
	return body, verdicts, nil
}

// judgeNow decides one tool call, waiting for an approval if a rule says so.
func (g *Gateway) judgeNow(ctx context.Context, ex *exchange, b *heldBlock) verdict {
	if len(b.start) > g.actionHold() {
		b.over = true
		return oversized(g.actionHold())
	}
	v, d := g.judge(ex, b.act())
	if v.decision != "" {
		return v
	}
	h := g.startHold(ctx, ex, b.act(), d)
	<-h.done
	return h.verdict()
}
