package main

import (
	"context"
	"fmt"
	"os"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/policy/credential"
	"github.com/airlock-dev/airlock/policy/mask"
)

// components are what the startup sequence builds, in that order.
type components struct {
	lock   *os.File
	key    []byte // the install key (fingerprints, placeholders)
	creds  *credential.Store
	masker *mask.Masker
}

// sequence is the startup order: nothing that accepts traffic starts before
// what it depends on, and the BPF hooks come after the listener is ready.
func (d *daemon) sequence() []startStep {
	return []startStep{
		{"lock", d.startLock},
		{"state_dir", d.startStateDir},
		{"credentials", d.startCredentials},
		{"masking", d.startMasking},
	}
}

func (d *daemon) startLock(context.Context) error {
	f, err := acquireLock(d.cfg.LockFile())
	if err != nil {
		return err
	}
	d.parts.lock = f
	// The file stays: unlinking a lock file races with a starting daemon
	// that already opened the old inode.
	d.onStop("lock", func(context.Context) error { return f.Close() })
	return nil
}

func (d *daemon) startStateDir(context.Context) error {
	if err := prepareStateDir(d.cfg.StateDir); err != nil {
		return err
	}
	key, err := installKey(d.cfg.StateDir)
	if err != nil {
		return fail("install key", "check the state directory's permissions", err)
	}
	d.parts.key = key
	return nil
}

// healthy is the watchdog's check: every serving component must be alive.
func (d *daemon) healthy() error {
	if d.parts.creds == nil {
		return fmt.Errorf("credentials not loaded")
	}
	return nil
}

// reload re-reads targets, policy and credentials (SIGHUP). A part that
// fails to reload keeps its previous state and logs why.
func (d *daemon) reload() {
	d.notifyReloading()
	d.log.Info("reloading")
	if err := d.parts.creds.Reload(); err != nil {
		d.log.Error("credential reload failed: keeping the previous values", zap.Error(err))
	}
	d.parts.masker.SetManaged(secretStrings(d.parts.creds.Values()))
	d.notifyReady()
}
