package trust

import (
	"os"
	"path/filepath"
)

// Distro-specific locations of the system trust store.
type storeLayout struct {
	Family  string   // "debian" or "rhel"
	CAFile  string   // where our CA goes (also NODE_EXTRA_CA_CERTS)
	Bundle  string   // the generated bundle that includes it (SSL_CERT_FILE)
	Refresh []string // the command that regenerates Bundle
	// Forget regenerates Bundle after our CA file was removed. Debian's
	// update-ca-certificates leaves the removed file's symlinks in
	// /etc/ssl/certs (dangling) unless run with --fresh.
	Forget []string
}

var (
	debianStore = storeLayout{Family: "debian",
		CAFile:  "/usr/local/share/ca-certificates/airlock.crt",
		Bundle:  "/etc/ssl/certs/ca-certificates.crt",
		Refresh: []string{"update-ca-certificates"},
		Forget:  []string{"update-ca-certificates", "--fresh"}}
	rhelStore = storeLayout{Family: "rhel",
		CAFile:  "/etc/pki/ca-trust/source/anchors/airlock.crt",
		Bundle:  "/etc/pki/tls/certs/ca-bundle.crt",
		Refresh: []string{"update-ca-trust", "extract"},
		Forget:  []string{"update-ca-trust", "extract"}}
)

// Environment drop-ins, read by the systemd manager (services), the systemd
// user manager and login shells.
const (
	envDropIn     = "/etc/environment.d/90-airlock.conf"
	systemDropIn  = "/etc/systemd/system.conf.d/90-airlock.conf"
	profileDropIn = "/etc/profile.d/airlock.sh"
	manifestName  = "trust-manifest.json"
	javaAlias     = "airlock"
	javaStorePass = "changeit" // the JDK's well-known default; the cacerts store is public data
)

// detectStore picks the trust store layout present under root.
func detectStore(root string) (storeLayout, bool) {
	switch {
	case exists(filepath.Join(root, "etc/debian_version")), exists(filepath.Join(root, "usr/local/share/ca-certificates")):
		return debianStore, true
	case exists(filepath.Join(root, "etc/pki/ca-trust/source/anchors")):
		return rhelStore, true
	}
	return storeLayout{}, false
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// at maps a host path to the same path under root.
func (o Options) at(path string) string { return filepath.Join(o.Root, path) }
