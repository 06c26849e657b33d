package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/airlock-dev/airlock/cmd/airlock/internal/installer"
	"github.com/airlock-dev/airlock/internal/config"
)

// credentials checks that each managed credential's source can be read by
// the daemon — without reading the value: a file exists and is private, a
// systemd credential has its LoadCredential= file, a helper is executable.
func (d *doctorEnv) credentials(context.Context) []check {
	if d.cfg == nil {
		return d.needConfig("sources")
	}
	var out []check
	for _, c := range d.cfg.Credentials {
		out = append(out, credentialCheck(c, installer.DefaultUnitPath))
	}
	return out
}

func credentialCheck(c config.Credential, unitPath string) check {
	switch {
	case c.File != "":
		return privateFile(c.Name, c.File)
	case c.Systemd != "":
		path, ok := loadCredentialPath(unitPath, c.Systemd)
		if !ok {
			return check{Name: c.Name, Result: checkWarn, Detail: "systemd credential " + c.Systemd + ": no LoadCredential= for it in " + unitPath,
				Fix: "add LoadCredential=" + c.Systemd + ":/etc/airlock/credentials/" + c.Systemd + " to the unit"}
		}
		return privateFile(c.Name, path)
	case len(c.Command) > 0:
		if _, err := exec.LookPath(c.Command[0]); err != nil {
			return check{Name: c.Name, Result: checkFail, Detail: "helper " + c.Command[0] + ": " + err.Error(), Fix: "install the helper or correct credentials[].command"}
		}
		return check{Name: c.Name, Result: checkOK, Detail: "helper " + c.Command[0] + " found (not run)"}
	}
	return check{Name: c.Name, Result: checkOK, Detail: "from airlockd's environment variable " + c.Env + " (not visible here)"}
}

// privateFile checks a credential file without reading it.
func privateFile(name, path string) check {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return check{Name: name, Result: checkFail, Detail: path + ": " + err.Error(),
			Fix: fmt.Sprintf("write the managed key to %s (install -m 0600 /dev/stdin %s), then restart airlockd", path, path)}
	case st.Mode().Perm()&0o077 != 0:
		return check{Name: name, Result: checkFail, Detail: fmt.Sprintf("%s is readable by group or others (%v)", path, st.Mode().Perm()),
			Fix: "chmod 0600 " + path + " and rotate the key: it may have leaked"}
	}
	return check{Name: name, Result: checkOK, Detail: path + " present, private (value not read)"}
}

// loadCredentialPath finds LoadCredential=NAME:PATH in a systemd unit.
func loadCredentialPath(unitPath, name string) (string, bool) {
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
