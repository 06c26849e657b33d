package installer

import (
	"bufio"
	"os"
	"strings"
)

// LoadCredentialPath finds LoadCredential=NAME:PATH in a systemd unit.
func LoadCredentialPath(unitPath, name string) (string, bool) {
	f, err := os.Open(unitPath)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "LoadCredential=")
		if cred, path, found := strings.Cut(v, ":"); ok && found && cred == name {
			return path, true
		}
	}
	return "", false
}
