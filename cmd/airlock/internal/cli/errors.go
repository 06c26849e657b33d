package cli

import (
	"errors"
	"fmt"
	"strings"
)

// Exit codes: scripts branch on them.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Error is what every command returns when it fails: the reason, what the
// operator can do about it, and the exit code. It prints as one line.
type Error struct {
	Reason string
	Fix    string
	Code   int
	Err    error // the underlying cause, for errors.Is/As
}

func (e *Error) Error() string {
	msg := e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Fix != "" {
		msg += "; fix: " + e.Fix
	}
	return oneLine(msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Explain is the reason and the fix apart (doctor shows them in two columns).
func (e *Error) Explain() (reason, fix string) {
	reason = e.Reason
	if e.Err != nil {
		reason += ": " + e.Err.Error()
	}
	return oneLine(reason), e.Fix
}

// fail builds a failure (exit 1) with a cause and a fix.
func fail(err error, fix, format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...), Fix: fix, Code: ExitFailure, Err: err}
}

// usage builds a usage error (exit 2).
func usage(fix, format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...), Fix: fix, Code: ExitUsage}
}

// exitCode maps any error to the process exit code.
func exitCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return ExitFailure
	}
	return ExitOK
}

// render prints err as the single line an operator sees.
func render(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return "airlock: " + e.Error()
	}
	return "airlock: " + oneLine(err.Error())
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
