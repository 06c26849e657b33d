//go:build !linux

package bench

import (
	"context"
	"errors"
	"net"
)

// NetnsTarget needs Linux network namespaces.
type NetnsTarget struct{}

// StartNetnsTarget is unsupported off Linux.
func StartNetnsTarget(context.Context, string) (*NetnsTarget, error) {
	return nil, errors.New("network namespaces need Linux")
}

// Dial is unsupported off Linux.
func (*NetnsTarget) Dial(string) func(context.Context) (net.Conn, error) { return nil }

// Close does nothing.
func (*NetnsTarget) Close() {}
