package policy

import (
	"sync/atomic"

	"go.uber.org/zap"
)

// Current holds the engine in force and replaces it on Reload. An invalid
// policy at reload keeps the previous engine and returns every problem (the
// caller logs them); limit state carries over to the new engine.
type Current struct {
	path   string
	log    *zap.Logger
	engine atomic.Pointer[Engine]
}

// NewCurrent loads the policy at path; the first load must succeed.
func NewCurrent(path string, log *zap.Logger) (*Current, error) {
	if log == nil {
		log = zap.NewNop()
	}
	e, err := Load(path, Options{})
	if err != nil {
		return nil, err
	}
	c := &Current{path: path, log: log.Named("policy")}
	c.engine.Store(e)
	return c, nil
}

// Engine returns the engine in force; pass c.Engine as gateway.Config.Policy.
func (c *Current) Engine() *Engine { return c.engine.Load() }

// Reload compiles the policy file again and swaps it in if it is valid.
func (c *Current) Reload() error {
	e, err := Load(c.path, Options{State: c.Engine().State()})
	if err != nil {
		return err // the caller logs it, once
	}
	c.engine.Store(e)
	c.log.Info("policy reloaded", zap.String("path", c.path), zap.Int("rules", len(e.rules)))
	return nil
}
