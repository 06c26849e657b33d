package intercept

import "fmt"

// SetupError says what capture could not set up and how to fix it. Load
// returns it for missing privileges, mounts or kernel features.
type SetupError struct {
	What string // what is missing, in plain words
	Fix  string // what the operator should do
	Err  error  // the underlying error, for errors.Is
}

func (e *SetupError) Error() string {
	return fmt.Sprintf("%s (fix: %s): %v", e.What, e.Fix, e.Err)
}

func (e *SetupError) Unwrap() error { return e.Err }
