//go:build !linux

package containers

import "errors"

var errUnsupported = errors.New("containers: trust provisioning needs linux")

// InstallTrust needs linux (openat2 into /proc/PID/root).
func InstallTrust(string, string, []byte) (TrustRecord, error) { return TrustRecord{}, errUnsupported }

// UninstallTrust needs linux.
func UninstallTrust(string, TrustRecord) error { return errUnsupported }

// TrustHolds needs linux.
func TrustHolds(string, []byte) ([]string, error) { return nil, errUnsupported }
