package credential

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Config lists the named credentials. Default names the one used when a
// policy rule names none (the first one when empty).
type Config struct {
	Credentials []Spec `mapstructure:"credentials" yaml:"credentials"`
	Default     string `mapstructure:"default" yaml:"default"`
}

// Credential is a snapshot of one named credential: a request that got it
// keeps it until it completes, whatever rotation happens meanwhile.
type Credential struct {
	Name   string
	Kind   Kind
	Secret Secret
}

// Apply sets the credential on an outbound header set, in the form its kind needs.
func (c Credential) Apply(h http.Header) {
	switch c.Kind {
	case KindBearer:
		h.Set("Authorization", "Bearer "+c.Secret.Reveal())
	default:
		h.Set("X-Api-Key", c.Secret.Reveal())
	}
}

// Store holds the current value of every named credential. It is safe for
// concurrent use; Reload and file watching swap values atomically.
type Store struct {
	log      *zap.Logger
	specs    map[string]Spec
	def      string
	static   atomic.Pointer[snapshot] // file, env and systemd values
	helpers  map[string]*helperCache
	reloadMu sync.Mutex

	subMu sync.Mutex
	subs  []func([]Secret)
}

// Subscribe calls fn with Values() now and after every change of a value
// (reload, file change, helper refresh): the masker learns each new managed
// value before a response could carry it.
func (s *Store) Subscribe(fn func([]Secret)) {
	s.subMu.Lock()
	s.subs = append(s.subs, fn)
	s.subMu.Unlock()
	fn(s.Values())
}

func (s *Store) notify() {
	s.subMu.Lock()
	subs := slices.Clone(s.subs)
	s.subMu.Unlock()
	vals := s.Values()
	for _, fn := range subs {
		fn(vals)
	}
}

// Reveal returns the non-empty values of secrets, for APIs (the masker's
// SetManaged) that must match the raw value.
func Reveal(secrets []Secret) []string {
	out := make([]string, 0, len(secrets))
	for _, v := range secrets {
		if !v.IsZero() {
			out = append(out, v.Reveal())
		}
	}
	return out
}

// NewStore validates cfg and loads every static credential. A credential
// that cannot be read now is logged and answered as unavailable later, so
// one missing file does not stop the daemon.
func NewStore(cfg Config, log *zap.Logger) (*Store, error) {
	if log == nil {
		log = zap.NewNop()
	}
	s := &Store{log: log.Named("credential"), specs: map[string]Spec{}, helpers: map[string]*helperCache{}}
	if err := s.configure(cfg); err != nil {
		return nil, err
	}
	if err := s.Reload(); err != nil {
		s.log.Error("loading credentials: they are answered as unavailable", zap.Error(err))
	}
	return s, nil
}

func (s *Store) configure(cfg Config) error {
	var errs []error
	for _, sp := range cfg.Credentials {
		if err := sp.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := s.specs[sp.Name]; dup {
			errs = append(errs, fmt.Errorf("credential %q: defined twice", sp.Name))
		}
		s.specs[sp.Name] = sp
		if len(sp.Command) > 0 {
			s.helpers[sp.Name] = newHelperCache(sp)
		}
	}
	s.def = cfg.Default
	if s.def == "" && len(cfg.Credentials) > 0 {
		s.def = cfg.Credentials[0].Name
	}
	if _, ok := s.specs[s.def]; !ok && s.def != "" {
		errs = append(errs, fmt.Errorf("default credential %q is not defined", s.def))
	}
	return errors.Join(errs...)
}

// Has reports whether name is a configured credential ("" is the default).
func (s *Store) Has(name string) bool {
	_, ok := s.specs[s.resolve(name)]
	return ok
}

// Names returns the configured credential names.
func (s *Store) Names() []string {
	names := make([]string, 0, len(s.specs))
	for n := range s.specs {
		names = append(names, n)
	}
	return names
}

func (s *Store) resolve(name string) string {
	if name == "" {
		return s.def
	}
	return name
}

// Get returns the current value of the named credential ("" = default). An
// error wraps ErrUnavailable and never contains the value.
func (s *Store) Get(ctx context.Context, name string) (Credential, error) {
	name = s.resolve(name)
	sp, ok := s.specs[name]
	if !ok {
		return Credential{}, fmt.Errorf("credential %q is not configured: %w", name, ErrUnavailable)
	}
	if h := s.helpers[name]; h != nil {
		v, fresh, err := h.get(ctx)
		if fresh {
			s.notify()
		}
		if err != nil {
			s.log.Warn("credential helper failed", zap.String("credential", name), zap.Error(err))
			return Credential{}, err
		}
		return Credential{Name: name, Kind: sp.Kind, Secret: v}, nil
	}
	snap := s.static.Load()
	if c, ok := snap.creds[name]; ok {
		return c, nil
	}
	return Credential{}, fmt.Errorf("credential %q: %w", name, snap.errs[name])
}

// Reload re-reads every file, environment and systemd credential and drops
// cached helper output, so the next request runs the helper again. Requests
// that already hold a Credential keep it. The returned error lists the
// credentials that could not be read; the others are updated regardless.
func (s *Store) Reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	next := &snapshot{creds: map[string]Credential{}, errs: map[string]error{}}
	var errs []error
	for name, sp := range s.specs {
		if h := s.helpers[name]; h != nil {
			h.invalidate()
			continue
		}
		v, err := readStatic(sp)
		if err != nil {
			errs = append(errs, err)
			next.errs[name] = err
			continue
		}
		next.creds[name] = Credential{Name: name, Kind: sp.Kind, Secret: NewSecret(v)}
	}
	s.static.Store(next)
	s.notify()
	return errors.Join(errs...)
}

func readStatic(sp Spec) (string, error) {
	switch {
	case sp.File != "":
		return readFile(sp.File)
	case sp.Env != "":
		return readEnv(sp.Env)
	}
	p, err := systemdPath(sp.Systemd)
	if err != nil {
		return "", err
	}
	return readFile(p)
}

// Values returns every credential value currently known (static ones and
// cached helper output), for the masker to recognise the managed key.
func (s *Store) Values() []Secret {
	var out []Secret
	for _, c := range s.static.Load().creds {
		out = append(out, c.Secret)
	}
	for _, h := range s.helpers {
		if v, ok := h.cached(); ok {
			out = append(out, v)
		}
	}
	return out
}

// snapshot is one load of the static credentials, with why the others failed.
type snapshot struct {
	creds map[string]Credential
	errs  map[string]error
}

// helperCache runs a helper command at most once at a time and keeps its
// output for the TTL; a failure is cached briefly to bound helper load.
type helperCache struct {
	spec    Spec
	mu      sync.Mutex
	val     Secret
	err     error
	expires time.Time
}

func newHelperCache(sp Spec) *helperCache {
	if sp.Timeout <= 0 {
		sp.Timeout = defaultHelperTimeout
	}
	if sp.TTL <= 0 {
		sp.TTL = defaultHelperTTL
	}
	return &helperCache{spec: sp}
}

// get returns the cached value, running the helper when it expired; fresh
// reports a new successful run.
func (h *helperCache) get(ctx context.Context) (v Secret, fresh bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if time.Now().Before(h.expires) {
		return h.val, false, h.err
	}
	out, err := runHelper(ctx, h.spec.Command, h.spec.Timeout)
	h.val, h.err = NewSecret(out), err
	h.expires = time.Now().Add(h.spec.TTL)
	if err != nil {
		h.val, h.expires = Secret{}, time.Now().Add(min(h.spec.TTL, 5*time.Second))
	}
	return h.val, err == nil, h.err
}

func (h *helperCache) cached() (Secret, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.val, h.err == nil && !h.val.IsZero()
}

func (h *helperCache) invalidate() {
	h.mu.Lock()
	h.expires = time.Time{}
	h.mu.Unlock()
}
