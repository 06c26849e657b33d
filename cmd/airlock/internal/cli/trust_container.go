package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/airlock-dev/airlock/containers"
	"github.com/airlock-dev/airlock/internal/config"
)

// containerFlags select containers for trust install/uninstall.
type containerFlags struct {
	ref string // id or name
	all bool
}

func (f *containerFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.ref, "container", "", "work on this running container's own trust store (id or name), through /proc/PID/root")
	c.Flags().BoolVar(&f.all, "all", false, "every running container the runtimes (capture.containers.sockets) know")
}

func (f containerFlags) set() bool { return f.ref != "" || f.all }

func containerTrustDir(cfg *config.Config) string {
	return filepath.Join(cfg.StateDir, "containers", "trust")
}

// containerRefs resolves the flags to running containers.
func containerRefs(ctx context.Context, rt *containers.Runtimes, f containerFlags) ([]containers.Info, error) {
	refs := []string{f.ref}
	if f.all {
		var err error
		if refs, err = rt.List(ctx); err != nil {
			return nil, err
		}
	}
	var out []containers.Info
	for _, ref := range refs {
		info, err := rt.Inspect(ctx, ref)
		if err != nil {
			return nil, err
		}
		if info.PID == 0 {
			return nil, fmt.Errorf("container %s is not running", ref)
		}
		out = append(out, info)
	}
	return out, nil
}

func (a *app) installContainerTrust(ctx context.Context, f containerFlags) error {
	cfg, ca, err := a.currentCA()
	if err != nil {
		return err
	}
	infos, err := containerRefs(ctx, containers.NewRuntimes(cfg.Capture.Containers.Sockets, nil), f)
	if err != nil {
		return fail(err, "check the id or name with 'docker ps' and that capture.containers.sockets lists the runtime's socket", "finding the container")
	}
	for _, info := range infos {
		rec, err := containers.InstallTrust(containers.RootOf(info.PID), info.ID, ca.CertPEM())
		if err == nil {
			err = containers.SaveTrustRecord(containerTrustDir(cfg), rec)
		}
		if err != nil {
			return fail(err, "mount the CA into the container and set SSL_CERT_FILE (see deploy/)", "provisioning trust in container %s", info.Name)
		}
		a.printContainerTrust("added to", info, rec)
	}
	return nil
}

func (a *app) uninstallContainerTrust(ctx context.Context, f containerFlags) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	infos, err := containerRefs(ctx, containers.NewRuntimes(cfg.Capture.Containers.Sockets, nil), f)
	if err != nil {
		return fail(err, "check the id or name with 'docker ps'", "finding the container")
	}
	for _, info := range infos {
		rec, err := containers.LoadTrustRecord(containerTrustDir(cfg), info.ID)
		if errors.Is(err, fs.ErrNotExist) {
			continue // nothing installed there
		}
		if err == nil {
			err = containers.UninstallTrust(containers.RootOf(info.PID), rec)
		}
		if err == nil {
			err = containers.RemoveTrustRecord(containerTrustDir(cfg), info.ID)
		}
		if err != nil {
			return fail(err, "run it as root", "removing trust from container %s", info.Name)
		}
		a.printContainerTrust("removed from", info, rec)
	}
	return nil
}

func (a *app) printContainerTrust(what string, info containers.Info, rec containers.TrustRecord) {
	if a.jsonOut {
		_ = writeJSON(a.io.Out, map[string]any{"container": info, "record": rec})
		return
	}
	fmt.Fprintf(a.io.Out, "container %s (%s, %s): CA %s %v\n", info.Name, info.ID[:min(12, len(info.ID))], info.Image, what, append(rec.Appended, rec.Anchors...))
}
