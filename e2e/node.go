package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
)

// NodeCacheEnv names the directory where `make e2e-node` ran `npm ci` for
// e2e/node (default: ~/.cache/airlock/e2e-node).
const NodeCacheEnv = "AIRLOCK_E2E_NODE_DIR"

// NodeCacheDir is where the TypeScript SDK client is installed.
func NodeCacheDir() string {
	if d := os.Getenv(NodeCacheEnv); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, ".cache", "airlock", "e2e-node")
}

// nodeClients returns the installed TypeScript SDK client directory, or why
// there is none. The install must match the committed lock file exactly.
func nodeClients(root string) (dir, why string) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", "node is not installed (scripts/install-deps.sh installs nodejs)"
	}
	dir = NodeCacheDir()
	for _, f := range []string{"package-lock.json", "client.mjs", "agent.mjs"} {
		want, err := os.ReadFile(filepath.Join(root, "e2e", "node", f))
		if err != nil {
			return "", err.Error()
		}
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !bytes.Equal(want, got) {
			return "", "the TypeScript SDK client is not installed or stale in " + dir + ": run `make e2e-node`"
		}
	}
	for _, f := range []string{"@anthropic-ai/sdk/package.json", "@anthropic-ai/claude-agent-sdk/package.json", ".bin/claude"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", f)); err != nil {
			return "", f + " missing in " + dir + ": run `make e2e-node`"
		}
	}
	return dir, ""
}
