package trust

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.uber.org/zap"
)

// ErrNoStore means no supported system trust store was found under Root.
var ErrNoStore = errors.New("no supported system trust store (Debian/Ubuntu or RHEL/Fedora)")

// Install provisions caPEM (the Airlock CA bundle, tlsmitm.Authority.CertPEM)
// into the system store, the environment drop-ins and the Java keystore.
// It is idempotent; the manifest in StateDir records what it added.
func Install(ctx context.Context, opts Options, caPEM []byte) error {
	o := opts.withDefaults()
	if _, err := parseCerts(caPEM); err != nil {
		return err
	}
	store, ok := detectStore(o.Root)
	if !ok {
		return ErrNoStore
	}
	m, err := o.loadManifest()
	if err != nil {
		return err
	}
	m.StoreFamily = store.Family
	changed, err := o.installFiles(m, store, caPEM)
	if err == nil && (changed || !o.bundleHoldsCA(store, caPEM)) {
		err = o.refreshStore(ctx, store)
	}
	if err == nil {
		err = o.installJava(ctx, m, store, caPEM)
	}
	return errors.Join(err, o.saveManifest(m))
}

// installFiles writes the CA file and the three environment drop-ins and
// reports whether any of them changed.
func (o Options) installFiles(m *Manifest, store storeLayout, caPEM []byte) (bool, error) {
	files := []struct {
		path string
		data []byte
	}{
		{store.CAFile, caPEM},
		{envDropIn, []byte(envFileContent(store))},
		{systemDropIn, []byte(systemdContent(store))},
		{profileDropIn, []byte(profileContent(store))},
	}
	changed := false
	for _, f := range files {
		m.addFile(f.path)
		if sameContent(o.at(f.path), f.data) {
			continue
		}
		changed = true
		if err := o.installFile(m, f.path, f.data); err != nil {
			return changed, err
		}
	}
	return changed, nil
}

func (o Options) installFile(m *Manifest, path string, data []byte) error {
	if err := o.mkdirs(m, filepath.Dir(path)); err != nil {
		return err
	}
	o.Log.Info("writing trust file", zap.String("path", o.at(path)))
	return writeFile(o.at(path), data, 0o644)
}

func (o Options) bundleHoldsCA(store storeLayout, caPEM []byte) bool {
	bundle, err := os.ReadFile(o.at(store.Bundle))
	return err == nil && bundleHolds(bundle, caPEM)
}

// envVars are the variables every drop-in sets: Node reads our CA in
// addition to its bundled roots; OpenSSL and Python requests read the
// system bundle, which now includes our CA.
func envVars(store storeLayout) [][2]string {
	return [][2]string{
		{"NODE_EXTRA_CA_CERTS", store.CAFile},
		{"SSL_CERT_FILE", store.Bundle},
		{"REQUESTS_CA_BUNDLE", store.Bundle},
	}
}

const header = "# Written by `airlock trust install`; removed by `airlock trust uninstall`.\n"

func envFileContent(store storeLayout) string {
	var b strings.Builder
	b.WriteString(header)
	for _, kv := range envVars(store) {
		fmt.Fprintf(&b, "%s=%s\n", kv[0], kv[1])
	}
	return b.String()
}

func systemdContent(store storeLayout) string {
	var quoted []string
	for _, kv := range envVars(store) {
		quoted = append(quoted, fmt.Sprintf("%q", kv[0]+"="+kv[1]))
	}
	return header + "[Manager]\nDefaultEnvironment=" + strings.Join(quoted, " ") + "\n"
}

func profileContent(store storeLayout) string {
	var b strings.Builder
	b.WriteString(header)
	for _, kv := range envVars(store) {
		fmt.Fprintf(&b, "export %s=%q\n", kv[0], kv[1])
	}
	return b.String()
}

// commandsAllowed: on a test tree (Root != "/") commands would change the
// host, so they only run when the caller injected Run.
func (o Options) commandsAllowed(injected bool) bool { return o.Root == "/" || injected }

func (o Options) refreshStore(ctx context.Context, store storeLayout) error {
	if !o.commandsAllowed(o.runInjected) {
		return nil
	}
	if _, err := o.LookPath(store.Refresh[0]); err != nil {
		return fmt.Errorf("%s not found: %w", store.Refresh[0], err)
	}
	out, err := o.Run(ctx, store.Refresh[0], store.Refresh[1:]...)
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(store.Refresh, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// parseCerts decodes every certificate in a PEM bundle.
func parseCerts(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if c, err := x509.ParseCertificate(blk.Bytes); err == nil && blk.Type == "CERTIFICATE" {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("ca bundle holds no PEM certificate")
	}
	return out, nil
}

// javaFingerprint is keytool's "SHA-256" fingerprint format: AB:CD:...
func javaFingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	hex := fmt.Sprintf("%X", sum[:])
	var parts []string
	for i := 0; i < len(hex); i += 2 {
		parts = append(parts, hex[i:i+2])
	}
	return strings.Join(parts, ":")
}

// Uninstall removes exactly what Install recorded in the manifest, then
// refreshes the system store so the bundle no longer includes our CA.
func Uninstall(ctx context.Context, opts Options) error {
	o := opts.withDefaults()
	m, err := o.loadManifest()
	if err != nil {
		return err
	}
	if len(m.Files) == 0 && m.JavaAlias == "" {
		return nil // nothing was installed
	}
	var errs []error
	for _, f := range m.Files {
		if err := os.Remove(o.at(f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing %s: %w", o.at(f), err))
		}
	}
	for _, d := range slices.Backward(m.Dirs) {
		os.Remove(o.at(d)) // only if still empty: something else may live there now
	}
	errs = append(errs, o.refreshAfterRemoval(ctx, m), o.uninstallJava(ctx, m))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := os.Remove(o.manifestPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing trust manifest: %w", err)
	}
	return nil
}

func (o Options) refreshAfterRemoval(ctx context.Context, m *Manifest) error {
	for _, s := range []storeLayout{debianStore, rhelStore} {
		if s.Family == m.StoreFamily {
			s.Refresh = s.Forget
			return o.refreshStore(ctx, s)
		}
	}
	return nil
}
