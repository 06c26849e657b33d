package daemon

import (
	"context"
	"errors"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/internal/config"
	"github.com/airlock-dev/airlock/policy/credential"
	"github.com/airlock-dev/airlock/policy/mask"
)

// startCredentials loads the managed credentials. A credential that cannot be
// read at start is a startup error with its fix: a daemon that would answer
// every request 503 is better refused.
func (d *Daemon) startCredentials(ctx context.Context) error {
	store, err := credential.NewStore(credentialConfig(d.cfg.Credentials), d.log)
	if err != nil {
		return fail("credentials", "fix the credentials section of the config", err)
	}
	for _, c := range d.cfg.Credentials {
		if _, err := store.Get(ctx, c.Name); err != nil {
			return fail("managed credential "+quote(c.Name)+" is unavailable", credentialFix(c), err)
		}
	}
	d.parts.creds = store
	go func() {
		if err := store.Watch(d.ctx); err != nil && !errors.Is(err, context.Canceled) {
			d.log.Warn("credential file watch stopped: rotation needs SIGHUP", zap.Error(err))
		}
	}()
	return nil
}

func credentialConfig(creds []config.Credential) credential.Config {
	var cc credential.Config
	for _, c := range creds {
		cc.Credentials = append(cc.Credentials, credential.Spec{
			Name: c.Name, Kind: credential.Kind(c.Kind), File: c.File, Env: c.Env,
			Systemd: c.Systemd, Command: c.Command, Timeout: c.Timeout, TTL: c.TTL,
		})
	}
	return cc
}

func credentialFix(c config.Credential) string {
	switch {
	case c.File != "":
		return "write the key to " + c.File + " with mode 0400 (owner root), then restart"
	case c.Env != "":
		return "set " + c.Env + " in airlockd's environment"
	case c.Systemd != "":
		return "add LoadCredential=" + c.Systemd + ":/etc/airlock/credentials/" + c.Systemd + " to the unit and create that file"
	default:
		return "make the helper command print the key and exit 0"
	}
}

// startMasking builds the masker and subscribes it to the managed values (at
// start, on reload, when a credential file changes or a helper refreshes), so
// a managed key echoed by a model, pasted in a prompt or on a caller's command
// line is always masked: this is the only place the masker learns them.
func (d *Daemon) startMasking(context.Context) error {
	m, err := mask.New(d.cfg.Masking.MaskConfig(d.parts.key))
	if err != nil {
		return fail("masking", "fix the masking section of the config", err)
	}
	d.parts.creds.Subscribe(func(v []credential.Secret) { m.SetManaged(credential.Reveal(v)) })
	d.parts.masker = m
	return nil
}
