package tlsmitm

import "path/filepath"

// CACertPath is the CA certificate inside a CA directory: the file that
// trust stores, NODE_EXTRA_CA_CERTS and SSL_CERT_FILE point at. Callers use
// it instead of knowing the directory's layout.
func CACertPath(dir string) string { return filepath.Join(dir, caCertFile) }
