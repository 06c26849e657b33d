package installer

import (
	"context"
	"fmt"
	"os"
)

func (in *Installer) installCA(ctx context.Context) (string, string, error) {
	created, err := in.cfg.Hooks.CreateCA(ctx, in.abs(in.settings.CADir), in.settings.APIHosts)
	if err != nil {
		return "", "", err
	}
	if !created {
		return "kept", "existing CA in " + in.settings.CADir, nil
	}
	in.m.add(Action{Kind: KindCA, Path: in.settings.CADir})
	return "ok", "new CA in " + in.settings.CADir, nil
}

func (in *Installer) installTrust(ctx context.Context) (string, string, error) {
	if in.cfg.SkipTrust {
		return "skipped", "--skip-trust: run 'airlock trust install' later", nil
	}
	// Recorded first: a half-done trust install is undone by the same hook.
	in.m.add(Action{Kind: KindTrust})
	if err := in.cfg.Hooks.InstallTrust(ctx, in.cfg.Root, in.settings); err != nil {
		return "", "", err
	}
	return "ok", "CA trusted by the system store and runtime drop-ins", nil
}

func (in *Installer) installUnit() (string, string, error) {
	data, err := os.ReadFile(in.cfg.Sources.Unit)
	if err != nil {
		return "", "", fmt.Errorf("reading systemd unit: %w", err)
	}
	if in.cfg.Systemd.Unavailable() == "" {
		// Before the unit: undone after its removal, so systemd forgets it.
		in.m.add(Action{Kind: KindReload})
	}
	if _, err := in.writeFile(in.cfg.UnitPath, data, 0o644, false); err != nil {
		return "", "", err
	}
	return "ok", in.cfg.UnitPath, nil
}

// startDaemon enables and starts the unit and runs the self-test. Failures
// here keep the install: the usual cause is configuration still to be done
// (the managed credential), and uninstall removes everything anyway.
func (in *Installer) startDaemon(ctx context.Context) error {
	if why := in.cfg.Systemd.Unavailable(); why != "" || in.cfg.NoStart {
		if in.cfg.NoStart {
			why = "--no-start"
		}
		in.step("start", "skipped", why+"; start airlockd yourself (systemctl enable --now airlockd, or airlockd --config "+in.cfg.ConfigAt+")")
		in.step("self-test", "skipped", "the daemon was not started by install")
		return nil
	}
	if in.noKey {
		in.step("start", "skipped", "no managed key at "+in.settings.KeyPath+": write it there (mode 0600, or install --key-file), then systemctl enable --now airlockd")
		in.step("self-test", "skipped", "the daemon was not started by install")
		return nil
	}
	if err := in.run("start", in.enableAndStart(ctx)); err != nil {
		return fmt.Errorf("%w: %w", ErrStartFailed, err)
	}
	return in.selfTest(ctx)
}

func (in *Installer) enableAndStart(ctx context.Context) func() (string, string, error) {
	return func() (string, string, error) {
		sd := in.cfg.Systemd
		if err := sd.systemctl(ctx, "daemon-reload"); err != nil {
			return "", "", err
		}
		if err := sd.systemctl(ctx, "enable", UnitName); err != nil {
			return "", "", err
		}
		in.m.add(Action{Kind: KindEnable, Path: UnitName})
		in.m.add(Action{Kind: KindStart, Path: UnitName})
		// An upgrade restarts: `start` leaves the old binary running. In fail
		// closed mode the pins stay while it restarts, so captured
		// connections are refused for that moment, never let through, and
		// the new daemon adopts the same links.
		verb := map[bool]string{false: "start", true: "restart"}[in.replaced]
		if err := sd.systemctl(ctx, verb, UnitName); err != nil {
			return "", "", err
		}
		return "ok", UnitName + " enabled and " + verb + "ed", nil
	}
}

func (in *Installer) selfTest(ctx context.Context) error {
	if in.cfg.Hooks.SelfTest == nil {
		in.step("self-test", "skipped", "no self-test available")
		return nil
	}
	detail, err := in.cfg.Hooks.SelfTest(ctx)
	if err != nil {
		in.step("self-test", "failed", err.Error())
		return fmt.Errorf("%w: self-test: %w", ErrStartFailed, err)
	}
	in.step("self-test", "ok", detail)
	return nil
}
