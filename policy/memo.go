package policy

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
)

// The request rules' conditions are pure functions of the few fields they
// read: the same program sending the same kind of request gets the same
// match every time. Evaluating them with cold caches costs tens of
// microseconds before every request goes upstream (CEL walks its program
// and reflects on the caller), so the engine remembers which rule matched
// each combination of the fields the rules read. What follows the match
// (caps, findings, rate limits and budgets) is applied on every request.
//
// The memo is only built when every condition is provably such a function:
// none reads `time`, and none uses `caller`, `request` or `embedded` other
// than by selecting a field of it. A comprehension variable named like one
// of them is taken for it, which only ever makes the key finer or turns the
// memo off: it errs towards evaluating.

const (
	memoEntries = 4096    // remembered combinations; the memo starts afresh when full
	memoMaxKey  = 2 << 10 // bytes; a longer combination is evaluated every time
)

// memoField is one field the conditions read, and how to find it.
type memoField struct {
	path  string                // "caller.unit"
	of    func(*activation) any // the variable's struct, a pointer
	index int                   // the field in it
}

// memoVars are the variables whose fields a condition may select.
var memoVars = []struct {
	prefix string
	typ    reflect.Type
	of     func(*activation) any
}{
	{"caller.", reflect.TypeFor[celCaller](), func(a *activation) any { return a.caller }},
	{"request.", reflect.TypeFor[celRequest](), func(a *activation) any { return a.request }},
	{"embedded.", reflect.TypeFor[celEmbedded](), func(a *activation) any { return a.embedded }},
}

type memo struct {
	fields   []memoField // sorted by path
	findings bool        // a condition reads findings
	table    atomic.Pointer[memoTable]
}

type memoTable struct {
	m sync.Map // key string → memoHit
	n atomic.Int32
}

// memoHit is what the conditions concluded: the matched rule (-1 for the
// default), or that rule i needs a body field the request lacks.
type memoHit struct {
	rule    int
	invalid bool
}

// newMemo analyses the request rules' conditions; nil when they cannot be
// memoised.
func newMemo(asts []*cel.Ast) *memo {
	m := &memo{}
	paths := map[string]bool{}
	for _, a := range asts {
		if !m.collect(a, paths) {
			return nil
		}
	}
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		f, fromRequest, ok := fieldOf(p)
		if !ok {
			return nil
		}
		if fromRequest {
			m.fields = append(m.fields, f)
		}
	}
	m.table.Store(&memoTable{})
	return m
}

// collect adds the fields one condition reads; false when the condition
// reads anything else of the request's context.
func (m *memo) collect(a *cel.Ast, paths map[string]bool) bool {
	// Every identifier is counted, and separately each one a field is
	// selected from: the counts agree when a variable is only selected from.
	uses, selects := map[string]int{}, map[string]int{}
	celast.PostOrderVisit(a.NativeRep().Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		switch e.Kind() {
		case celast.IdentKind:
			uses[e.AsIdent()]++
		case celast.SelectKind:
			sel := e.AsSelect()
			if op := sel.Operand(); op.Kind() == celast.IdentKind {
				selects[op.AsIdent()]++
				paths[op.AsIdent()+"."+sel.FieldName()] = true
			}
		}
	}))
	if uses["time"] > 0 {
		return false
	}
	m.findings = m.findings || uses["findings"] > 0
	for _, v := range []string{"caller", "request", "embedded"} {
		if uses[v] != selects[v] {
			return false
		}
	}
	return true
}

// fieldOf resolves "caller.unit" to the field CEL reads. A selection on
// anything but the three structured variables (a comprehension variable's
// field, say) is not from the request (fromRequest false): not part of the key.
func fieldOf(path string) (f memoField, fromRequest, ok bool) {
	for _, v := range memoVars {
		name, found := strings.CutPrefix(path, v.prefix)
		if !found {
			continue
		}
		for i := range v.typ.NumField() {
			if v.typ.Field(i).Tag.Get("cel") == name {
				return memoField{path: path, of: v.of, index: i}, true, true
			}
		}
		return memoField{}, false, false // a field CEL would have refused
	}
	return memoField{}, false, true
}

// key encodes the values the conditions will read; "" when too long (or
// there is no memo). The findings are the request's counts as given, zeros
// included: CEL sees them laid over the engine's constant zero map.
func (m *memo) key(act *activation, in *Input) string {
	if m == nil {
		return ""
	}
	b := make([]byte, 0, 128)
	b = strconv.AppendBool(b, in.Request.BodyParsed)
	for _, f := range m.fields {
		b = appendValue(append(b, 0), reflect.ValueOf(f.of(act)).Elem().Field(f.index))
		if len(b) > memoMaxKey {
			return ""
		}
	}
	if m.findings {
		for _, n := range slices.Sorted(maps.Keys(in.Findings)) {
			b = strconv.AppendInt(strconv.AppendQuote(append(b, 0), n), int64(in.Findings[n]), 10)
		}
	}
	if len(b) > memoMaxKey {
		return ""
	}
	return string(b)
}

// appendValue encodes a field unambiguously: strings quoted, lists and
// structs element by element.
func appendValue(b []byte, v reflect.Value) []byte {
	switch v.Kind() {
	case reflect.String:
		return strconv.AppendQuote(b, v.String())
	case reflect.Int64:
		return strconv.AppendInt(b, v.Int(), 10)
	case reflect.Bool:
		return strconv.AppendBool(b, v.Bool())
	case reflect.Slice:
		b = strconv.AppendInt(append(b, '['), int64(v.Len()), 10)
		for i := range v.Len() {
			b = appendValue(append(b, ','), v.Index(i))
		}
		return append(b, ']')
	case reflect.Struct:
		b = append(b, '{')
		for i := range v.NumField() {
			b = appendValue(append(b, ','), v.Field(i))
		}
		return append(b, '}')
	}
	return fmt.Appendf(b, "%#v", v.Interface())
}

func (m *memo) get(key string) (memoHit, bool) {
	if key == "" {
		return memoHit{}, false
	}
	h, ok := m.table.Load().m.Load(key)
	if !ok {
		return memoHit{}, false
	}
	return h.(memoHit), true
}

// put remembers a conclusion; a full table is replaced by an empty one, so
// a program cycling through values costs itself evaluations, not memory.
func (m *memo) put(key string, h memoHit) {
	if key == "" {
		return
	}
	t := m.table.Load()
	if t.n.Add(1) > memoEntries {
		m.table.CompareAndSwap(t, &memoTable{})
		return
	}
	t.m.Store(key, h)
}
