package cli

import (
	"os"
	"path/filepath"

	"github.com/airlock-dev/airlock/cmd/airlock/internal/installer"
)

// deploy's file names (the repository's deploy/ directory).
const (
	unitFile    = "airlockd.service"
	exampleFile = "airlock.yaml"
	policyFile  = "policy.yaml"
)

// resolveSources finds what install copies: this binary, airlockd (in --from
// or next to this binary) and deploy's files (in --deploy-dir, or searched in
// the usual places of a release tree or a checkout).
func resolveSources(from, deployDir string) (installer.Sources, error) {
	self, err := os.Executable()
	if err == nil {
		self, err = filepath.EvalSymlinks(self)
	}
	if err != nil {
		return installer.Sources{}, fail(err, "run airlock by its path", "cannot locate this binary")
	}
	if from == "" {
		from = filepath.Dir(self)
	}
	src := installer.Sources{CLI: self, Daemon: filepath.Join(from, "airlockd")}
	if _, err := os.Stat(src.Daemon); err != nil {
		return src, fail(err, "build it ('make build' puts both in bin/) or pass --from DIR", "airlockd not found next to airlock")
	}
	dir, err := findDeployDir(deployDir, from)
	if err != nil {
		return src, err
	}
	src.Unit, src.ExampleConfig = filepath.Join(dir, unitFile), filepath.Join(dir, exampleFile)
	if _, err := os.Stat(filepath.Join(dir, policyFile)); err == nil {
		src.ExamplePolicy = filepath.Join(dir, policyFile)
	}
	return src, nil
}

func findDeployDir(explicit, from string) (string, error) {
	candidates := []string{explicit}
	if explicit == "" {
		wd, _ := os.Getwd()
		candidates = []string{filepath.Join(from, "deploy"), filepath.Join(from, "..", "deploy"),
			filepath.Join(wd, "deploy"), "/usr/share/airlock"}
	}
	for _, dir := range candidates {
		if fileExists(filepath.Join(dir, unitFile)) && fileExists(filepath.Join(dir, exampleFile)) {
			return dir, nil
		}
	}
	return "", fail(nil, "pass --deploy-dir pointing at the repository's deploy/ directory",
		"cannot find %s and %s in %v", unitFile, exampleFile, candidates)
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}
