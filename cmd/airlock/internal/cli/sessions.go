package cli

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/internal/transcript"
)

func (a *app) sessionsCommand() *cobra.Command {
	return group("sessions", "List, read and replay recorded sessions",
		`  airlock sessions list --since 1d
  airlock sessions show 0b6c7d0e-claude-code
  airlock sessions replay 0b6c7d0e-claude-code --speed 4`,
		a.sessionsListCommand(), a.sessionsShowCommand(), a.sessionsReplayCommand())
}

func (a *app) sessionsListCommand() *cobra.Command {
	var since, callerName string
	var limit int
	c := &cobra.Command{
		Use:   "list",
		Short: "List sessions, most recently active first",
		Long: `list shows recorded sessions: Claude Code's own session id when the client sent
one, otherwise requests grouped by caller and time ("derived").`,
		Example: `  airlock sessions list
  airlock sessions list --caller alice --since 2d --json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := parseWhen(since, time.Now())
			if err != nil {
				return err
			}
			return a.runSessionsList(cmd.Context(), audit.SessionFilter{Since: t, Caller: callerName, Limit: limit})
		},
	}
	c.Flags().StringVar(&since, "since", "", "active since: a duration ago (30m, 2h, 7d) or a date/time (UTC)")
	c.Flags().StringVar(&callerName, "caller", "", "a uid, user name, executable path or executable name")
	c.Flags().IntVar(&limit, "limit", 50, "most recent N sessions (0: all)")
	return c
}

func (a *app) runSessionsList(ctx context.Context, f audit.SessionFilter) error {
	list, err := a.sessionList(ctx, f)
	if err != nil {
		return err
	}
	if a.jsonOut {
		if list == nil {
			list = []audit.Session{}
		}
		return writeJSON(a.io.Out, list)
	}
	if len(list) == 0 {
		_, err := a.io.Out.Write([]byte("no sessions match\n"))
		return err
	}
	t := newTable(a.io.Out, "ID", "LAST", "FIRST", "REQUESTS", "CALLER", "MODELS")
	for _, s := range list {
		id := s.ID
		if s.Derived {
			id += " (derived)"
		}
		t.row(id, s.Last, s.First, s.Records, strings.TrimSpace(sessionCaller(s)), strings.Join(s.Models, ", "))
	}
	return t.flush()
}

func sessionCaller(s audit.Session) string {
	who := s.User
	if who == "" {
		who = "uid " + strconv.FormatUint(uint64(s.UID), 10)
	}
	return who + " " + s.Exe
}

func (a *app) sessionsShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Render a session as a conversation: prompts, tool calls, tool results, answers",
		Example: `  airlock sessions show 0b6c7d0e-claude-code
  airlock sessions show derived-1000-1764383700 --json`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := a.session(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.jsonOut {
				return writeJSON(a.io.Out, d)
			}
			return transcript.RenderSession(a.io.Out, d)
		},
	}
}

func (a *app) sessionsReplayCommand() *cobra.Command {
	var speed float64
	c := &cobra.Command{
		Use:   "replay ID",
		Short: "Re-stream a session's responses at the recorded pace (or --speed times faster)",
		Long: `replay writes each recorded response of the session to standard output exactly
as the client received it (the SSE events, byte for byte), waiting between
events as long as the original stream did, divided by --speed.`,
		Example: `  airlock sessions replay 0b6c7d0e-claude-code
  airlock sessions replay 0b6c7d0e-claude-code --speed 10 > replay.sse`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if speed <= 0 {
				return usage("give a positive factor, e.g. --speed 2", "--speed must be positive")
			}
			if a.usesCentral() {
				return a.replayCentral(cmd.Context(), args[0], speed)
			}
			c, sock := a.client()
			if err := c.Replay(cmd.Context(), args[0], speed, a.io.Out); err != nil {
				return adminError(err, sock, "replaying session "+args[0], idNotFound("sessions", "airlock sessions list"))
			}
			return nil
		},
	}
	c.Flags().Float64Var(&speed, "speed", 1, "replay this many times faster than recorded")
	return c
}
