package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"
)

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("audit store closed")

// DefaultSessionGap is the idle time after which a caller without a session
// header starts a new derived session.
const DefaultSessionGap = 30 * time.Minute

// StoreConfig configures the SQLite audit store.
type StoreConfig struct {
	Path       string        // database file, e.g. /var/lib/airlock/audit.db
	MaxAge     time.Duration // records older than this are pruned; 0 keeps them forever
	MaxBytes   int64         // records+recordings beyond this size are pruned, oldest first; 0: no limit
	SessionGap time.Duration // 0 means DefaultSessionGap
	// Sync is the durability of a commit: SyncNormal (the default: a record
	// survives a daemon crash) or SyncFull (it also survives power loss, at
	// the cost of an fsync per commit group).
	Sync string
	Log  *zap.Logger
	Now  func() time.Time // for tests; nil means time.Now
}

// Durability levels of StoreConfig.Sync.
const (
	SyncNormal = "normal"
	SyncFull   = "full"
)

// Store is the hash-chained audit store. Writes are serialized through one
// writer goroutine that commits them in groups (one fsync per group).
type Store struct {
	cfg       StoreConfig
	log       *zap.Logger
	db        *sql.DB
	jobs      chan *writeJob
	closing   chan struct{}
	done      chan struct{}
	closeMu   sync.Once
	pruneMu   sync.Mutex            // one retention pass at a time (the writer's and Prune's)
	size      atomic.Int64          // SUM(size) of the records: counted at Open, then by commits and prunes
	writeErr  atomic.Pointer[error] // last write failure, nil while writable
	sessions  *sessionTracker
	head      chainHead // owned by the writer goroutine
	stmts     writeStmts
	spool     *spool        // nil with Sync full: every write waits for its fsync'd commit
	spoolLock *os.File      // held while this store owns the spool (nil: another process does)
	appended  atomic.Uint64 // records spooled, and of those committed: reads settle on them
	committed atomic.Uint64
}

// Open opens (creating if needed) the store at cfg.Path and starts its writer.
func Open(ctx context.Context, cfg StoreConfig) (*Store, error) {
	s, err := newStore(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.init(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	go s.writer()
	return s, nil
}

func newStore(cfg StoreConfig) (*Store, error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionGap <= 0 {
		cfg.SessionGap = DefaultSessionGap
	}
	if cfg.Sync == "" {
		cfg.Sync = SyncNormal
	}
	if cfg.Sync != SyncNormal && cfg.Sync != SyncFull {
		return nil, fmt.Errorf("audit sync %q: want %s or %s", cfg.Sync, SyncNormal, SyncFull)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o700); err != nil {
		return nil, fmt.Errorf("creating audit directory: %w", err)
	}
	if err := restrictFiles(cfg.Path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn(cfg.Path, cfg.Sync))
	if err != nil {
		return nil, fmt.Errorf("opening audit store %s: %w", cfg.Path, err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4) // keep connections (and their pragmas) rather than reopening
	return &Store{
		cfg: cfg, log: cfg.Log.Named("audit"), db: db,
		jobs: make(chan *writeJob, queueSize), closing: make(chan struct{}), done: make(chan struct{}),
		sessions: newSessionTracker(cfg.SessionGap),
	}, nil
}

// restrictFiles makes the database file exist with mode 0600 before SQLite
// opens it (SQLite gives its -wal and -shm files the database's mode), and
// narrows files left wider by an older version or by hand.
func restrictFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("creating audit store %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restricting %s to 0600: %w", p, err)
		}
	}
	return nil
}

// dsn asks for WAL. With synchronous=NORMAL a commit is in the WAL (the
// OS's page cache) when Write returns: a SIGKILL of the daemon loses no
// acknowledged record, a power cut may lose the last groups. FULL also
// fsyncs the WAL at every commit group, so a power cut loses nothing.
func dsn(path, sync string) string {
	level := "NORMAL"
	if sync == SyncFull {
		level = "FULL"
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(" + level + ")", "busy_timeout(10000)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	return "file:" + path + "?" + q.Encode()
}

const schema = `
CREATE TABLE IF NOT EXISTS records (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	time_ns INTEGER NOT NULL, session_id TEXT NOT NULL, caller_uid INTEGER NOT NULL,
	caller_user TEXT NOT NULL, caller_exe TEXT NOT NULL, model TEXT NOT NULL, decision TEXT NOT NULL,
	size INTEGER NOT NULL, body BLOB NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_session ON records(session_id, seq);
CREATE TABLE IF NOT EXISTS recordings (seq INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS anchor (id INTEGER PRIMARY KEY CHECK (id = 1), head_seq INTEGER NOT NULL, head_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS spooled (id INTEGER PRIMARY KEY CHECK (id = 1), seg INTEGER NOT NULL, off INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (id INTEGER PRIMARY KEY AUTOINCREMENT, time_ns INTEGER NOT NULL,
	first_seq INTEGER NOT NULL, prev_hash TEXT NOT NULL, pruned INTEGER NOT NULL);
`

func (s *Store) init(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("creating audit schema in %s: %w", s.cfg.Path, err)
	}
	if err := upgradeSearchColumns(ctx, s.db); err != nil {
		return fmt.Errorf("%s: %w", s.cfg.Path, err)
	}
	head, err := loadHead(ctx, s.db)
	if err != nil {
		return err
	}
	s.head = head
	if err := s.countSize(ctx); err != nil {
		return err
	}
	if s.stmts, err = prepareWrites(ctx, s.db); err != nil {
		return fmt.Errorf("preparing audit writes in %s: %w", s.cfg.Path, err)
	}
	if err := s.replay(ctx); err != nil {
		return fmt.Errorf("replaying the audit spool of %s: %w", s.cfg.Path, err)
	}
	if err := s.prune(ctx); err != nil {
		s.log.Error("pruning audit store", zap.Error(err))
	}
	return nil
}

// Ready reports nil while the store is writable, or the last write failure.
func (s *Store) Ready() error {
	select {
	case <-s.closing:
		return ErrClosed
	default:
	}
	if p := s.writeErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Close stops the writer (waiting for an in-flight group) and closes the database.
func (s *Store) Close() error {
	// The writer drains what is queued and closes the spool (taking its lock
	// here could wait forever on an Append blocked behind a full queue).
	s.closeMu.Do(func() { close(s.closing) })
	<-s.done
	s.stmts.close()
	err := s.db.Close()
	if s.spoolLock != nil {
		s.spoolLock.Close() // after the last commit: releases the flock
	}
	return err
}
