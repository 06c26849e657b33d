package containers

import (
	"errors"
	"os"
)

// Bundles are the system CA bundles clients read by default, per family:
// Debian/Ubuntu, Alpine and distroless share the first; RHEL, UBI and Fedora
// use the second (a link into ca-trust/extracted); Alpine also has cert.pem.
var Bundles = []string{
	"etc/ssl/certs/ca-certificates.crt",
	"etc/pki/tls/certs/ca-bundle.crt",
	"etc/ssl/cert.pem",
}

// Anchors are where the distribution's own refresh tool picks a CA up, so
// a later update-ca-certificates or update-ca-trust inside keeps it.
var Anchors = []string{
	"usr/local/share/ca-certificates/airlock.crt",
	"etc/pki/ca-trust/source/anchors/airlock.crt",
}

// ErrHostRoot means the process's root is still the host's own.
var ErrHostRoot = errors.New("the process's root is the host's, not the container's (not started yet?)")

// IsHostRoot reports whether root is this process's own root directory (or
// cannot be told apart from it: then it is treated as the host's).
func IsHostRoot(root string) bool {
	a, err1 := os.Stat(root)
	b, err2 := os.Stat("/")
	return err1 != nil || err2 != nil || os.SameFile(a, b)
}
