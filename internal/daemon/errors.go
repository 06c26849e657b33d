package daemon

import (
	"fmt"
	"strings"
)

// StartupError is a failed start step with the operator's fix; its message
// is one line, as airlockd prints it.
type StartupError struct {
	What string
	Err  error
	Fix  string
}

func (e *StartupError) Error() string {
	return fmt.Sprintf("%s: %s (fix: %s)", e.What, strings.ReplaceAll(e.Err.Error(), "\n", "; "), e.Fix)
}

func (e *StartupError) Unwrap() error { return e.Err }

func fail(what, fix string, err error) error {
	return &StartupError{What: what, Err: err, Fix: fix}
}

func quote(s string) string { return "\"" + s + "\"" }
