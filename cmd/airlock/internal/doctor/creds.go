package doctor

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	"github.com/airlock-dev/airlock/cmd/airlock/internal/installer"
	"github.com/airlock-dev/airlock/internal/config"
)

// credentials checks that each managed credential's source can be read by
// the daemon — without reading the value: a file exists and is private, a
// systemd credential has its LoadCredential= file, a helper is executable.
func (d *env) credentials(context.Context) []Check {
	if d.cfg == nil {
		return needConfig("sources")
	}
	var out []Check
	for _, c := range d.cfg.Credentials {
		out = append(out, credentialCheck(c, installer.DefaultUnitPath))
	}
	return out
}

func credentialCheck(c config.Credential, unitPath string) Check {
	switch {
	case c.File != "":
		return privateFile(c.Name, c.File)
	case c.Systemd != "":
		path, ok := installer.LoadCredentialPath(unitPath, c.Systemd)
		if !ok {
			return Check{Name: c.Name, Result: Warn, Detail: "systemd credential " + c.Systemd + ": no LoadCredential= for it in " + unitPath,
				Fix: "add LoadCredential=" + c.Systemd + ":/etc/airlock/credentials/" + c.Systemd + " to the unit"}
		}
		return privateFile(c.Name, path)
	case len(c.Command) > 0:
		if _, err := exec.LookPath(c.Command[0]); err != nil {
			return Check{Name: c.Name, Result: Fail, Detail: "helper " + c.Command[0] + ": " + err.Error(), Fix: "install the helper or correct credentials[].command"}
		}
		return Check{Name: c.Name, Result: OK, Detail: "helper " + c.Command[0] + " found (not run)"}
	}
	return Check{Name: c.Name, Result: OK, Detail: "from airlockd's environment variable " + c.Env + " (not visible here)"}
}

// privateFile checks a credential file without reading it.
func privateFile(name, path string) Check {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return Check{Name: name, Result: Fail, Detail: path + ": " + err.Error(),
			Fix: fmt.Sprintf("write the managed key to %s (install -m 0600 /dev/stdin %s), then restart airlockd", path, path)}
	case st.Mode().Perm()&0o077 != 0:
		return Check{Name: name, Result: Fail, Detail: fmt.Sprintf("%s is readable by group or others (%v)", path, st.Mode().Perm()),
			Fix: "chmod 0600 " + path + " and rotate the key: it may have leaked"}
	}
	return Check{Name: name, Result: OK, Detail: path + " present, private (value not read)"}
}
