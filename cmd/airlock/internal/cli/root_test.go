package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Every command explains itself: a short line, and examples on every leaf.
func TestEveryCommandHasHelpAndExamples(t *testing.T) {
	root := (&app{}).rootCommand()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Short == "" {
			t.Errorf("%s has no short description", c.CommandPath())
		}
		if c.Runnable() && !c.HasSubCommands() && c.Example == "" && c.Name() != "help" && c.Parent().Name() != "completion" && c.Name() != "completion" {
			t.Errorf("%s has no examples", c.CommandPath())
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"policy", "test", "--help"}, {"approvals"}, {"install", "-h"}} {
		r := run(t, "", args...)
		if r.code != 0 || !strings.Contains(r.out, "Usage:") {
			t.Errorf("%v: code %d, stdout %q", args, r.code, r.out)
		}
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"polcy"}, "did you mean 'airlock policy'"},
		{[]string{"policy", "chek"}, "did you mean 'airlock policy check'"},
		{[]string{"doctor", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"policy", "check", "a", "b"}, "at most 1 argument"},
		{[]string{"install", "extra"}, "takes no arguments"},
		{[]string{"doctor", "--only", "kernal"}, `unknown doctor section "kernal"`},
	}
	for _, c := range cases {
		r := run(t, "", c.args...)
		r.wantOneLineError(t, ExitUsage, c.want)
	}
}
