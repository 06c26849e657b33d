package policy

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
	"gopkg.in/yaml.v3"
)

// Callers, requests and embedded credentials as CEL sees them. Integers are
// int64 so that `caller.uid == 1000` type-checks without a `u` suffix.
type celCaller struct {
	PID       int64        `cel:"pid"`
	UID       int64        `cel:"uid"`
	User      string       `cel:"user"`
	Exe       string       `cel:"exe"`
	Comm      string       `cel:"comm"`
	Cgroup    string       `cel:"cgroup"`
	Unit      string       `cel:"unit"`
	Container celContainer `cel:"container"`
	Pod       celPod       `cel:"pod"`
	// The executable at connect() (kernel-recorded file name) and whether
	// /proc at accept still showed it: `caller.exe` is only the caller's
	// when exe_changed is false.
	ExeName    string `cel:"exe_name"`
	ExeChanged bool   `cel:"exe_changed"`
	Cwd        string `cel:"cwd"` // working directory at accept ("" when unknown)
}

// celContainer is the caller's container: id from the cgroup path, name and
// image from the runtime (all "" outside a container).
type celContainer struct {
	ID    string `cel:"id"`
	Name  string `cel:"name"`
	Image string `cel:"image"`
}

// celPod is the caller's Kubernetes pod ("" outside Kubernetes; the uid
// comes from the cgroup path, namespace and name from the runtime).
type celPod struct {
	Namespace string `cel:"namespace"`
	Name      string `cel:"name"`
	UID       string `cel:"uid"`
}

type celRequest struct {
	Method    string   `cel:"method"`
	Path      string   `cel:"path"`
	Model     string   `cel:"model"`
	MaxTokens int64    `cel:"max_tokens"`
	Stream    bool     `cel:"stream"`
	Tools     []string `cel:"tools"`
	Betas     []string `cel:"betas"`
	BodySize  int64    `cel:"body_size"`
}

type celEmbedded struct {
	Class string `cel:"class"`
}

// bodyFields are the request fields that exist only when the JSON body parsed.
var bodyFields = map[string]bool{"model": true, "max_tokens": true, "stream": true, "tools": true}

func newEnv() (*cel.Env, error) {
	return cel.NewEnv(
		ext.NativeTypes(ext.ParseStructTags(true),
			reflect.TypeFor[celCaller](), reflect.TypeFor[celContainer](), reflect.TypeFor[celPod](),
			reflect.TypeFor[celRequest](), reflect.TypeFor[celEmbedded]()),
		ext.Strings(),
		cel.Variable("caller", cel.ObjectType("policy.celCaller")),
		cel.Variable("request", cel.ObjectType("policy.celRequest")),
		cel.Variable("embedded", cel.ObjectType("policy.celEmbedded")),
		cel.Variable("time", cel.TimestampType),
		cel.Variable("findings", cel.MapType(cel.StringType, cel.IntType)),
	)
}

// compiled is one rule's condition, ready to run.
type compiled struct {
	prg       cel.Program
	ast       *cel.Ast // checked, for what the condition reads (memo.go)
	needsBody string   // the first body field the condition reads, "" if none
}

// compileWhen compiles a rule's `when`; problems are positioned in the file.
func compileWhen(env *cel.Env, n *yaml.Node, lines []string) (*compiled, []Problem) {
	ast, iss := env.Compile(n.Value)
	if iss != nil && iss.Err() != nil {
		var ps []Problem
		for _, e := range iss.Errors() {
			line, col := exprPosition(n, lines, e.Location.Line(), e.Location.Column())
			ps = append(ps, Problem{line, col, "when: " + e.Message})
		}
		return nil, ps
	}
	if ast.OutputType() != cel.BoolType {
		return nil, []Problem{{n.Line, n.Column, fmt.Sprintf("when: must be a bool expression, not %s", ast.OutputType())}}
	}
	if f := unknownActionField(ast); f != "" {
		return nil, []Problem{{n.Line, n.Column, fmt.Sprintf("when: action has no field %q (it has tool, input, id and type)", f)}}
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, []Problem{{n.Line, n.Column, "when: " + err.Error()}}
	}
	return &compiled{prg: prg, ast: ast, needsBody: bodyFieldRead(ast)}, nil
}

// exprPosition maps a CEL location (1-based line, 0-based column within the
// expression) to the file: inline scalars start at the node, block scalars
// (`|`, `>`) on the next line at their indentation.
func exprPosition(n *yaml.Node, lines []string, line, col int) (int, int) {
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		// The block's indentation is that of its first content line.
		indent := 0
		if n.Line < len(lines) {
			indent = len(lines[n.Line]) - len(strings.TrimLeft(lines[n.Line], " "))
		}
		return n.Line + line, indent + col + 1
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		return n.Line + line - 1, n.Column + col + 1
	}
	return n.Line + line - 1, n.Column + col
}

// bodyFieldRead finds a `request.<body field>` selection in the condition.
func bodyFieldRead(a *cel.Ast) string {
	if f := selected(a, "request", func(f string) bool { return bodyFields[f] }); f != "" {
		return "request." + f
	}
	return ""
}

// selected finds the first `<ident>.<field>` selection whose field is of
// interest, "" if none.
func selected(a *cel.Ast, ident string, of func(field string) bool) string {
	found := ""
	celast.PostOrderVisit(a.NativeRep().Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		if found != "" || e.Kind() != celast.SelectKind {
			return
		}
		sel := e.AsSelect()
		if op := sel.Operand(); op.Kind() == celast.IdentKind && op.AsIdent() == ident && of(sel.FieldName()) {
			found = sel.FieldName()
		}
	}))
	return found
}

// activation resolves the variables without allocating a map per request.
type activation struct {
	caller   *celCaller
	request  *celRequest
	embedded *celEmbedded
	time     any
	findings map[string]int
	action   map[string]any // action rules only
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "caller":
		return a.caller, true
	case "request":
		return a.request, true
	case "embedded":
		return a.embedded, true
	case "time":
		return a.time, true
	case "findings":
		return a.findings, true
	case "action":
		return a.action, a.action != nil
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }
