package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/audit/central"
	"github.com/airlock-dev/airlock/policy/approval"
)

// centralFlags point the reading and deciding commands at a fleet's
// PostgreSQL instead of this host's daemon: an operator needs database
// access, not root on the agent's machine.
type centralFlags struct {
	url, passwordFile, as string
	host                  string // --host of the commands that name one host's record or holds
}

// usesCentral reports whether --central (or AIRLOCK_CENTRAL_URL) is set.
func (a *app) usesCentral() bool { return a.central.url != "" }

func (a *app) centralDB(ctx context.Context) (*central.DB, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	db, err := central.Open(ctx, central.Config{URL: a.central.url, PasswordFile: a.central.passwordFile})
	if err != nil {
		return nil, fail(err, "check --central (a postgres:// URL without a password; the password goes in --central-password-file or PGPASSFILE)",
			"cannot reach the central audit database")
	}
	return db, nil
}

// auditRecords reads records from the central store or this host's daemon.
func (a *app) auditRecords(ctx context.Context, f audit.Filter, what string) ([]audit.Record, error) {
	if a.usesCentral() {
		db, err := a.centralDB(ctx)
		if err != nil {
			return nil, err
		}
		defer db.Close()
		recs, err := db.List(ctx, f)
		if err != nil {
			return nil, fail(err, "check the database is reachable", "%s", what)
		}
		return recs, nil
	}
	if f.Host != "" {
		return nil, usage("--host filters a fleet's central store: add --central URL", "--host needs --central")
	}
	c, sock := a.client()
	recs, err := c.Audit(ctx, f)
	if err != nil {
		return nil, adminError(err, sock, what, "")
	}
	return recs, nil
}

// verifyCentral checks every host's chain as stored centrally.
func (a *app) verifyCentral(ctx context.Context, host string) error {
	db, err := a.centralDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	reps, err := db.Verify(ctx, host)
	if err != nil {
		return fail(err, "check the database is reachable", "verifying the central audit trail")
	}
	if a.jsonOut {
		if reps == nil {
			reps = []central.HostReport{}
		}
		if err := writeJSON(a.io.Out, reps); err != nil {
			return err
		}
	}
	ok := true
	for _, r := range reps {
		ok = ok && r.OK
		if !a.jsonOut {
			fmt.Fprintf(a.io.Out, "host %s: ", r.Host)
			if err := a.printVerify(r.VerifyReport); err != nil && !errors.Is(err, errSilentFailure) {
				return err
			}
		}
	}
	if !ok {
		return errSilentFailure
	}
	return nil
}

// showCentral prints one host's record from the central store.
func (a *app) showCentral(ctx context.Context, id int64, body bool) error {
	if a.central.host == "" {
		return usage("add --host NAME (record ids are per host; 'audit list --central' shows both)", "--central audit show needs --host")
	}
	db, err := a.centralDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	e, err := db.Entry(ctx, a.central.host, id)
	if err != nil {
		return fail(err, "list records with 'airlock --central URL audit list --host "+a.central.host+"'", "audit record %d", id)
	}
	if a.jsonOut {
		return writeJSON(a.io.Out, e)
	}
	return printEntry(a.io.Out, e, body)
}

// centralApprovals lists the fleet's open holds.
func (a *app) centralApprovals(ctx context.Context, host string) error {
	db, err := a.centralDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	open, err := db.Approvals(ctx, host, true)
	if err != nil {
		return fail(err, "check the database is reachable", "listing central approvals")
	}
	pending := make([]approval.Pending, 0, len(open))
	for _, o := range open {
		pending = append(pending, approval.Pending{ID: o.ID, Created: o.Created, Expires: o.Expires,
			Command: "airlock --central URL approvals approve " + o.ID,
			Request: approval.Request{Caller: o.Caller, Rule: o.Rule, Reason: o.Reason, Method: o.Method,
				Path: o.Path, Model: o.Model, Summary: "[" + o.Host + "] " + o.Summary}})
	}
	return a.printApprovals(pending)
}

// decideCentral records a decision in the fleet's queue; the holding daemon
// acts on it within a second.
func (a *app) decideCentral(ctx context.Context, id string, approve bool, f decisionFlags) error {
	db, err := a.centralDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	decision := map[bool]string{true: central.DecisionApprove, false: central.DecisionDeny}[approve]
	if err := db.Decide(ctx, id, decision, a.central.as, f.reason, f.window); err != nil {
		return fail(err, "list open holds with 'airlock --central URL approvals list'", "deciding %s", id)
	}
	verb := map[bool]string{true: "approved", false: "denied"}[approve]
	fmt.Fprintf(a.io.Out, "%s %s as %s in the central queue; the holding host acts on it within a second\n",
		verb, id, orDefault(a.central.as, "the database role"))
	return nil
}

func centralURLFromEnv() string { return os.Getenv("AIRLOCK_CENTRAL_URL") }

func (a *app) auditPruneCommand() *cobra.Command {
	var olderThan string
	c := &cobra.Command{
		Use:   "prune",
		Short: "Remove old records from a fleet's central store (retention), keeping every chain verifiable",
		Long: `prune deletes the central records older than --older-than from every host's chain
and leaves a checkpoint per host, so 'audit verify' still checks what remains.
Each host's local store keeps its own retention (audit.max_age). Run it from cron
or a systemd timer with an account that may delete.`,
		Example: `  airlock --central postgres://airlock-admin@db.internal/airlock audit prune --older-than 400d`,
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !a.usesCentral() {
				return usage("add --central URL", "prune applies to a fleet's central store; the local store prunes itself")
			}
			before, err := parseWhen(olderThan, time.Now())
			if err != nil || before.IsZero() {
				return usage("give a duration such as 400d", "invalid --older-than %q", olderThan)
			}
			db, err := a.centralDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			n, err := db.Prune(cmd.Context(), before)
			if err != nil {
				return fail(err, "check the role may delete from records", "pruning the central store")
			}
			fmt.Fprintf(a.io.Out, "removed %d records older than %s\n", n, cell(before))
			return nil
		},
	}
	c.Flags().StringVar(&olderThan, "older-than", "400d", "remove records older than this (a duration: 90d, 2160h)")
	return c
}
