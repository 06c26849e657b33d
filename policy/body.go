package policy

import (
	"fmt"

	"github.com/tidwall/gjson"
)

// ParseBody fills the body fields of q from a Messages-style JSON body
// without decoding the whole document: rules need only these few fields, and
// the body itself is forwarded as received. An empty body parses (every field
// zero). A body that CheckJSON refuses, or that is not a JSON object, leaves
// BodyParsed false and returns why; gjson (recursive) reads only a body
// CheckJSON has bounded.
func ParseBody(body []byte, q *Request) error {
	q.BodySize = int64(len(body))
	q.BodyParsed = len(body) == 0
	if len(body) == 0 {
		return nil
	}
	if err := CheckJSON(body); err != nil {
		return err
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return errNotObject
	}
	q.BodyParsed = true
	q.Model = root.Get("model").String()
	q.MaxTokens = root.Get("max_tokens").Int()
	q.Stream = root.Get("stream").Bool()
	q.Tools = q.Tools[:0]
	root.Get("tools").ForEach(func(_, t gjson.Result) bool {
		if name := t.Get("name").String(); name != "" {
			q.Tools = append(q.Tools, name)
		} else if typ := t.Get("type").String(); typ != "" {
			q.Tools = append(q.Tools, typ)
		}
		return true
	})
	return nil
}

var errNotObject = fmt.Errorf("%w: the body is not a JSON object", ErrNotJSON)
