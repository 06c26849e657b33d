package mask

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitleaks' rules carry their true and false positives only as arguments
// of utils.Validate inside each rule function (cmd/generate/config/rules).
// To run them here, the test copies that package from the module in use
// into a scratch module, with utils.Validate wrapped by a recorder, runs
// every rule function, and reads the cases (and, for each true positive,
// the secrets gitleaks' own detector reports) as JSON. The cases are
// generated secrets that look real, so they are never committed: they are
// cached per gitleaks version under the user cache directory, and a
// dependency bump regenerates them.

type glCase struct {
	Text    string   `json:"text"`
	Secrets []string `json:"secrets"`
}

type glRuleCases struct {
	ID   string   `json:"id"`
	TPs  []glCase `json:"tps"`
	FPs  []string `json:"fps"`
	Path bool     `json:"path"` // validated with file paths (path-bound rule)
	// FPClear: the false positives gitleaks' whole default configuration
	// finds nothing in (a rule's false positive may be another's secret).
	FPClear []string `json:"fp_clear"`
}

func gitleaksCases(t *testing.T) []glRuleCases {
	t.Helper()
	mod, err := exec.Command("go", "list", "-m", "-f", "{{.Version}} {{.Dir}}", gitleaksModule).Output()
	if err != nil {
		t.Fatalf("locating %s: %v", gitleaksModule, err)
	}
	ver, modDir, _ := strings.Cut(strings.TrimSpace(string(mod)), " ")
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	cache := filepath.Join(dir, "airlock-test", "gitleaks-cases-v2-"+ver+".json")
	b, err := os.ReadFile(cache)
	if err != nil {
		b = generateGitleaksCases(t, ver, modDir)
		_ = os.MkdirAll(filepath.Dir(cache), 0o755)
		_ = os.WriteFile(cache, b, 0o644)
	}
	var cases []glRuleCases
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatalf("gitleaks cases: %v", err)
	}
	return cases
}

func generateGitleaksCases(t *testing.T, ver, modDir string) []byte {
	t.Helper()
	rulesDir := filepath.Join(modDir, "cmd", "generate", "config", "rules")
	work := t.TempDir()
	funcs := copyRules(t, rulesDir, filepath.Join(work, "rules"))
	write(t, filepath.Join(work, "go.mod"), "module glcases\n\ngo 1.24\n\nrequire "+gitleaksModule+" "+ver+"\n")
	write(t, filepath.Join(work, "rules", "zz_capture.go"), captureSrc)
	write(t, filepath.Join(work, "main.go"), mainSrc(funcs))
	run := func(args ...string) []byte {
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = work, append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, errText(err))
		}
		return out
	}
	run("mod", "tidy")
	return run("run", ".")
}

func errText(err error) string {
	if e, ok := err.(*exec.ExitError); ok {
		return string(e.Stderr)
	}
	return ""
}

// copyRules copies the rule files with utils.Validate* replaced by the
// recorder and returns the rule functions (exported, no parameters).
func copyRules(t *testing.T, from, to string) []string {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(from, "*.go"))
	var funcs []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.NewReplacer("utils.ValidateWithPaths(", "capturePaths(", "utils.Validate(", "capture(").Replace(string(b))
		if strings.Contains(s, `"`+gitleaksModule+`/cmd/generate/config/utils"`) {
			s += "\nvar _ = utils.Validate // the import may have served only Validate\n"
		}
		write(t, filepath.Join(to, filepath.Base(f)), s)
		funcs = append(funcs, ruleFuncs(t, s)...)
	}
	return funcs
}

func ruleFuncs(t *testing.T, src string) []string {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if ok && fn.Recv == nil && fn.Name.IsExported() && fn.Type.Params.NumFields() == 0 && fn.Type.Results.NumFields() == 1 {
			out = append(out, fn.Name.Name)
		}
	}
	return out
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mainSrc(funcs []string) string {
	var b strings.Builder
	b.WriteString("package main\n\nimport (\n\t\"encoding/json\"\n\t\"os\"\n\n\t\"glcases/rules\"\n)\n\nfunc main() {\n")
	for _, f := range funcs {
		fmt.Fprintf(&b, "\trules.%s()\n", f)
	}
	b.WriteString("\t_ = json.NewEncoder(os.Stdout).Encode(rules.Recorded)\n}\n")
	return b.String()
}

const captureSrc = `package rules

import (
	"strings"

	"github.com/zricethezav/gitleaks/v8/cmd/generate/config/base"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
)

type Case struct {
	Text    string   ` + "`json:\"text\"`" + `
	Secrets []string ` + "`json:\"secrets\"`" + `
}

type RuleCases struct {
	ID   string   ` + "`json:\"id\"`" + `
	TPs  []Case   ` + "`json:\"tps\"`" + `
	FPs  []string ` + "`json:\"fps\"`" + `
	Path bool     ` + "`json:\"path\"`" + `
	FPClear []string ` + "`json:\"fp_clear\"`" + `
}

var Recorded []RuleCases

func detector(r config.Rule) *detect.Detector {
	kws := map[string]struct{}{}
	for i, k := range r.Keywords {
		r.Keywords[i] = strings.ToLower(k)
		kws[r.Keywords[i]] = struct{}{}
	}
	cfg := base.CreateGlobalConfig()
	cfg.Rules = map[string]config.Rule{r.RuleID: r}
	cfg.Keywords = kws
	return detect.NewDetector(cfg)
}

func capture(r config.Rule, tps, fps []string) *config.Rule {
	out := &r // recorded, not validated: main.go of gitleaks leaves some rules out
	d := detector(r)
	rc := RuleCases{ID: r.RuleID, FPs: fps}
	for _, tp := range tps {
		c := Case{Text: tp}
		for _, f := range d.DetectString(tp) {
			c.Secrets = append(c.Secrets, f.Secret)
		}
		rc.TPs = append(rc.TPs, c)
	}
	full, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		panic(err)
	}
	for _, fp := range fps {
		if len(full.DetectString(fp)) == 0 {
			rc.FPClear = append(rc.FPClear, fp)
		}
	}
	Recorded = append(Recorded, rc)
	return out
}

func capturePaths(r config.Rule, tps, fps map[string]string) *config.Rule {
	out := &r
	rc := RuleCases{ID: r.RuleID, Path: true}
	for _, tp := range tps {
		rc.TPs = append(rc.TPs, Case{Text: tp})
	}
	for _, fp := range fps {
		rc.FPs = append(rc.FPs, fp)
	}
	Recorded = append(Recorded, rc)
	return out
}
`
