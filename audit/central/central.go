// Package central is a fleet's shared audit trail and approval queue on
// PostgreSQL. Each daemon's local SQLite store stays the source of truth and
// the spool: a Shipper copies its records here asynchronously, idempotent by
// host and sequence number, with the hash-chain fields intact, so that Verify
// can check every host's chain as stored centrally without trusting the
// shipper. Operators read and decide from any machine through DB.
package central

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Config says how to reach the central database.
type Config struct {
	// URL is a libpq connection string or URL: postgres://user@host/db?sslmode=verify-full&sslrootcert=…
	// A password in it is refused: use PasswordFile (or PGPASSFILE).
	URL string
	// PasswordFile holds the password (a file, or a systemd credential under $CREDENTIALS_DIRECTORY).
	PasswordFile string
}

// DB is a connection pool to the central store, its schema migrated.
type DB struct {
	pool *pgxpool.Pool
}

// ErrPasswordInURL refuses a password written into the URL, where it would
// end up in configs, process listings and logs.
var ErrPasswordInURL = errors.New("the central database URL carries a password: put it in password_file instead")

// Open connects and brings the schema up to date (concurrent daemons
// migrate one at a time, under tern's advisory lock).
func Open(ctx context.Context, cfg Config) (*DB, error) {
	pc, err := poolConfig(cfg)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connecting to the central database: %w", err)
	}
	db := &DB{pool: pool}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

func poolConfig(cfg Config) (*pgxpool.Config, error) {
	if hasPassword(cfg.URL) {
		return nil, ErrPasswordInURL
	}
	pc, err := pgxpool.ParseConfig(cfg.URL) // pgx redacts passwords from its parse errors
	if err != nil {
		return nil, fmt.Errorf("parsing the central database URL: %w", err)
	}
	if cfg.PasswordFile != "" {
		b, err := os.ReadFile(cfg.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("reading the central database password: %w", err)
		}
		pc.ConnConfig.Password = strings.TrimRight(string(b), "\r\n")
	}
	pc.MaxConns = 4
	return pc, nil
}

// hasPassword spots a password in either connection-string form.
func hasPassword(conn string) bool {
	if u, err := url.Parse(conn); err == nil && u.Scheme != "" {
		_, set := u.User.Password()
		return set || u.Query().Has("password")
	}
	return strings.Contains(strings.ToLower(conn), "password=")
}

func (db *DB) migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connecting to the central database: %w", err)
	}
	defer conn.Release()
	m, err := migrate.NewMigrator(ctx, conn.Conn(), "airlock_schema_version")
	if err != nil {
		return fmt.Errorf("preparing central schema migrations: %w", err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	if err := m.LoadMigrations(sub); err != nil {
		return fmt.Errorf("loading central schema migrations: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrating the central schema: %w", err)
	}
	return nil
}

// Close releases the pool.
func (db *DB) Close() { db.pool.Close() }

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// tx runs fn in a transaction.
func (db *DB) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}
