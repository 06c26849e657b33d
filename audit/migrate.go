package audit

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// querier is what the schema code needs of a *sql.DB or a *sql.Conn.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// plainColumn is pragma_table_xinfo's "hidden" of an ordinary column (a
// VIRTUAL generated one is 2, a STORED one 3).
const plainColumn = 0

// upgradeSearchColumns gives the store plain search columns. Earlier
// versions had none, or had them as VIRTUAL generated columns (json_extract
// over the body, evaluated on every insert to maintain their indexes); such a
// store is rewritten once, under SQLite's write lock, and its rows' values
// are computed from their bodies. An older daemon that still writes to an
// upgraded store leaves the columns empty; verify names those records.
func upgradeSearchColumns(ctx context.Context, db *sql.DB) error {
	kinds, err := columnKinds(ctx, db, "records")
	if err != nil {
		return err
	}
	if !needsUpgrade(kinds) {
		return createSearchIndexes(ctx, db)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("upgrading the audit search columns: %w", err)
	}
	defer conn.Close()
	// IMMEDIATE: another process opening the same old store waits, then finds it upgraded.
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("upgrading the audit search columns: %w", err)
	}
	if err := upgradeLocked(ctx, conn); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return fmt.Errorf("upgrading the audit search columns: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("upgrading the audit search columns: %w", err)
	}
	return nil
}

func needsUpgrade(kinds map[string]int) bool {
	for _, c := range searchColumns {
		if kind, ok := kinds[c.name]; !ok || kind != plainColumn {
			return true
		}
	}
	return false
}

// upgradeLocked replaces the missing or generated search columns by plain
// ones filled from the bodies. The indexes over them go first (SQLite drops
// no indexed column) and come back over the plain columns.
func upgradeLocked(ctx context.Context, q querier) error {
	kinds, err := columnKinds(ctx, q, "records")
	if err != nil || !needsUpgrade(kinds) {
		return err
	}
	stmts := []string{`DROP INDEX IF EXISTS records_rule`, `DROP INDEX IF EXISTS records_status`,
		`DROP INDEX IF EXISTS records_exe_name`, `DROP INDEX IF EXISTS records_usage`}
	var sets []string
	for _, c := range searchColumns {
		kind, ok := kinds[c.name]
		if ok && kind == plainColumn {
			continue
		}
		if ok {
			stmts = append(stmts, `ALTER TABLE records DROP COLUMN `+c.name)
		}
		stmts = append(stmts, fmt.Sprintf(`ALTER TABLE records ADD COLUMN %s %s`, c.name, c.typ))
		sets = append(sets, c.name+" = "+c.fill)
	}
	stmts = append(stmts, `UPDATE records SET `+strings.Join(sets, ", "))
	for _, st := range stmts {
		if _, err := q.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("%s: %w", st, err)
		}
	}
	return createSearchIndexes(ctx, q)
}

func createSearchIndexes(ctx context.Context, q querier) error {
	for _, st := range searchIndexes {
		if _, err := q.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("indexing the audit search columns: %w", err)
		}
	}
	return nil
}

// columnKinds maps each column of table to its pragma_table_xinfo "hidden" value.
func columnKinds(ctx context.Context, q querier, table string) (map[string]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, hidden FROM pragma_table_xinfo(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("reading the columns of %s: %w", table, err)
	}
	defer rows.Close()
	kinds := map[string]int{}
	for rows.Next() {
		var name string
		var hidden int
		if err := rows.Scan(&name, &hidden); err != nil {
			return nil, fmt.Errorf("reading the columns of %s: %w", table, err)
		}
		kinds[name] = hidden
	}
	return kinds, rows.Err()
}
