//go:build !linux

package intercept

import (
	"context"
	"net"

	"go.uber.org/zap"
)

// Namespaces is unavailable off linux.
type Namespaces struct{}

// NewNamespaces returns ErrUnsupported.
func NewNamespaces(Config, *Loader, APIHandler, Reporter, *zap.Logger) (*Namespaces, error) {
	return nil, ErrUnsupported
}

// Run returns ErrUnsupported.
func (*Namespaces) Run(context.Context) error { return ErrUnsupported }

// OnOpen does nothing off linux.
func (*Namespaces) OnOpen(func(OpenedNamespace)) {}

// Stats is empty off linux.
func (*Namespaces) Stats() NamespaceStats { return NamespaceStats{} }

// Close does nothing.
func (*Namespaces) Close() error { return nil }

func netnsOf(net.Listener) (uint64, error) { return 0, nil }
