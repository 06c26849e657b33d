package policy

import "github.com/tidwall/gjson"

// ParseBody fills the body fields of q from a Messages-style JSON body
// without decoding the whole document: rules need only these few fields, and
// the body itself is forwarded as received. An empty body parses (every field
// zero); a body that is not a JSON object leaves BodyParsed false.
func ParseBody(body []byte, q *Request) {
	q.BodySize = int64(len(body))
	q.BodyParsed = len(body) == 0
	if len(body) == 0 || !gjson.ValidBytes(body) {
		return
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return
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
}
