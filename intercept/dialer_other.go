//go:build !linux

package intercept

import "net"

// MarkedDialer returns a plain dialer: SO_MARK exists only on linux, where
// capture runs.
func MarkedDialer(mark uint32) *net.Dialer { return &net.Dialer{} }
