// Package config is airlockd's configuration: a typed Config with defaults for
// every key, loaded from /etc/airlock/airlock.yaml, /etc/airlock/conf.d/*.yaml,
// AIRLOCK_* variables and flags (see Load), and validated once with every
// problem listed. viper lives in this package only; the rest of the daemon
// receives plain typed values.
package config

import "time"

// Config is the whole daemon configuration. Field tags are the YAML keys.
type Config struct {
	StateDir     string        `mapstructure:"state_dir"`     // CA, audit store; 0700
	RuntimeDir   string        `mapstructure:"runtime_dir"`   // lock file, admin socket
	DrainTimeout time.Duration `mapstructure:"drain_timeout"` // SIGTERM: how long in-flight streams may finish
	Log          Log           `mapstructure:"log"`
	Capture      Capture       `mapstructure:"capture"`
	TLS          TLS           `mapstructure:"tls"`
	Upstream     Upstream      `mapstructure:"upstream"`
	Gateway      Gateway       `mapstructure:"gateway"`
	Credentials  []Credential  `mapstructure:"credentials"`
	Policy       Policy        `mapstructure:"policy"`
	Masking      Masking       `mapstructure:"masking"`
	Approvals    Approvals     `mapstructure:"approvals"`
	Audit        Audit         `mapstructure:"audit"`
	Admin        Admin         `mapstructure:"admin"`
	Console      Console       `mapstructure:"console"`
}

// Log selects the zap level and encoder.
type Log struct {
	Level  string `mapstructure:"level"`  // debug | info | warn | error
	Format string `mapstructure:"format"` // auto | json | console
}

// Fail modes: what happens to Claude-bound connections when the daemon is gone.
const (
	FailClosed = "closed" // links stay pinned: connections are refused
	FailOpen   = "open"   // links are detached on exit: connections go out directly
)

// Capture configures the eBPF redirect and the listener.
type Capture struct {
	Cgroup   string   `mapstructure:"cgroup"`    // cgroup v2 path to attach to; empty = the cgroup2 root
	PinDir   string   `mapstructure:"pin_dir"`   // under bpffs
	ListenV4 string   `mapstructure:"listen_v4"` // interceptor listener, host:port on loopback
	ListenV6 string   `mapstructure:"listen_v6"` // empty disables IPv6 capture
	Mark     uint32   `mapstructure:"mark"`      // SO_MARK of the daemon's own upstream sockets; 0 = random per start
	Targets  []string `mapstructure:"targets"`   // CIDR prefixes that are redirected
	Ports    []int    `mapstructure:"ports"`     // destination ports that are redirected
	Hosts    []string `mapstructure:"hosts"`     // names whose resolved addresses are redirected too
	APIHosts []string `mapstructure:"api_hosts"` // SNIs that are intercepted
	// RelayAllow are the other SNIs relayed unchanged (and audited) to the
	// API's addresses; any other SNI there is refused. Empty by default.
	RelayAllow []string   `mapstructure:"relay_allow"`
	FailMode   string     `mapstructure:"fail_mode"` // closed | open
	Containers Containers `mapstructure:"containers"`
}

// Containers configures how captured containers are named and trusted.
type Containers struct {
	// Sockets are Docker Engine API sockets (Docker, podman) asked for a
	// container's name and image; the cgroup path alone gives its id.
	Sockets []string `mapstructure:"sockets"`
	// Trust: "inject" adds the CA to a container's own system bundles when
	// its namespace is first served (as `airlock trust install --container`);
	// "off" leaves containers' trust stores alone.
	Trust string `mapstructure:"trust"`
	// CAConfigMaps ("namespace/name" each): under Kubernetes the daemon
	// writes its CA certificate into each of these ConfigMaps, under the
	// key <node>.crt, through the API as its service account, so workload
	// pods in those namespaces mount it without a hostPath.
	CAConfigMaps []string `mapstructure:"ca_configmaps"`
	// CRISockets are CRI runtimes' gRPC sockets (containerd, CRI-O) asked
	// for a container's pod namespace, pod name and container name.
	CRISockets []string `mapstructure:"cri_sockets"`
	// MaxNamespaces bounds the network namespaces served at once, against
	// a process that creates them in a loop: past it a new namespace's
	// first contacts are held until connect() times out.
	MaxNamespaces int `mapstructure:"max_namespaces"`
}

// TLS configures the client-facing TLS server.
type TLS struct {
	HandshakeTimeout time.Duration `mapstructure:"handshake_timeout"`
}

// Upstream configures the verified connection to the real API.
type Upstream struct {
	Override    string `mapstructure:"override"`      // host:port dialled instead of the API host (tests, demo)
	ExtraCAFile string `mapstructure:"extra_ca_file"` // PEM roots trusted in addition to the system's
	Proxy       string `mapstructure:"proxy"`         // https://proxy:port for CONNECT egress
	Protocol    string `mapstructure:"protocol"`      // h2 | http1: the upstream pool's protocol
}

// Gateway configures the HTTP layer between TLS and upstream.
type Gateway struct {
	MaxBody ByteSize `mapstructure:"max_body"` // larger request bodies get 413
	// MaxEvent bounds one upstream SSE event; a larger one ends the stream
	// with an error event.
	MaxEvent ByteSize `mapstructure:"max_event"`
	// ActionHold bounds one tool-use block held for the action rules; a
	// larger one is refused.
	ActionHold ByteSize `mapstructure:"action_hold"`
	// MaxInFlightBody bounds the request bodies held at once; past it a
	// request is answered 503 overloaded_error with Retry-After.
	MaxInFlightBody ByteSize `mapstructure:"max_inflight_body"`
	// BodyTimeout is how long a client may take to send its body.
	BodyTimeout time.Duration `mapstructure:"body_timeout"`
}

// Credential kinds: how the managed value is sent upstream.
const (
	KindAPIKey = "api_key" // x-api-key
	KindBearer = "bearer"  // Authorization: Bearer
)

// Credential is one named managed credential and where its value comes from.
// Exactly one of File, Env, Systemd and Command is set.
type Credential struct {
	Name    string        `mapstructure:"name"`
	Kind    string        `mapstructure:"kind"`
	File    string        `mapstructure:"file"`    // must not be group/world readable
	Env     string        `mapstructure:"env"`     // a variable in the daemon's environment
	Systemd string        `mapstructure:"systemd"` // a LoadCredential= name ($CREDENTIALS_DIRECTORY)
	Command Argv          `mapstructure:"command"` // argv of a helper that prints the value
	Timeout time.Duration `mapstructure:"timeout"` // how long a helper may run (default 10s)
	TTL     time.Duration `mapstructure:"ttl"`     // how long a helper's output is cached (default 5m)
}

// Argv is a command line: a YAML list, or one string split on spaces (no shell quoting).
type Argv []string

// Policy is where the rules are: a file of their own, or inline here (rules
// and default under the policy key, as in a policy file). Neither means the
// built-in default policy.
type Policy struct {
	File    string           `mapstructure:"file"`
	Rules   []map[string]any `mapstructure:"rules"`   // inline rules, compiled by the policy package
	Default map[string]any   `mapstructure:"default"` // inline default rule
	// InlineFile is the configuration file that holds the inline policy (set
	// by Load): the policy compiler reads it for positions, SIGHUP re-reads it.
	InlineFile string `mapstructure:"-"`
}

// PolicyPath is the file the policy compiler reads: policy.file, or the
// configuration file holding an inline policy; "" for the built-in default.
func (p Policy) PolicyPath() string {
	if p.File != "" {
		return p.File
	}
	return p.InlineFile
}

// Masking configures the detectors and the streaming masker.
type Masking struct {
	PII        bool            `mapstructure:"pii"`         // enable the opt-in PII detectors
	Disable    []string        `mapstructure:"disable"`     // detectors switched off, by id or tag (gitleaks, builtin, aws, ...)
	Enable     []string        `mapstructure:"enable"`      // detectors kept on although disable names them (id or tag)
	RulesFile  string          `mapstructure:"rules_file"`  // extra rules in gitleaks' TOML format
	Custom     []CustomPattern `mapstructure:"custom"`      // extra regular expressions
	Literals   []string        `mapstructure:"literals"`    // exact strings always masked
	MaxHold    ByteSize        `mapstructure:"max_hold"`    // bytes held back per content block
	OnOverflow string          `mapstructure:"on_overflow"` // flush (and flag the audit record) | cut
	// Budget bounds the time masking one request body may take; a body
	// that would take longer is refused (413), never sent unmasked.
	Budget       time.Duration `mapstructure:"budget"`
	MaxPrefilter ByteSize      `mapstructure:"max_prefilter"` // bound on the keyword prefilter (literal lists grow it)
}

// CustomPattern is a named regular expression masked like a built-in detector.
type CustomPattern struct {
	Name     string   `mapstructure:"name"`
	Pattern  string   `mapstructure:"pattern"`
	Keywords []string `mapstructure:"keywords"` // prefilter; empty = always run
}

// Approvals configures held requests.
type Approvals struct {
	Timeout  time.Duration `mapstructure:"timeout"`
	Webhooks []Webhook     `mapstructure:"webhooks"`
	// Central publishes holds to the fleet's database (audit.central), where
	// any operator with access decides; the local queue keeps working.
	Central bool `mapstructure:"central"`
}

// Webhook announces each pending approval.
type Webhook struct {
	URL    string `mapstructure:"url"`
	Format string `mapstructure:"format"` // json | slack
}

// Audit configures the record store.
type Audit struct {
	Path     string        `mapstructure:"path"` // empty = <state_dir>/audit.db
	MaxAge   time.Duration `mapstructure:"max_age"`
	MaxSize  ByteSize      `mapstructure:"max_size"`
	FailOpen bool          `mapstructure:"fail_open"` // serve requests even when records cannot be written
	// Sync: normal (a record survives a daemon crash) or full (it also
	// survives power loss, at the cost of an fsync per commit group).
	Sync string `mapstructure:"sync"`
	// Central ships every record to a fleet's PostgreSQL (empty url: off).
	Central CentralStore `mapstructure:"central"`
}

// CentralStore is a fleet's shared PostgreSQL.
type CentralStore struct {
	URL          string `mapstructure:"url"`           // postgres://user@host/db?sslmode=verify-full&sslrootcert=…, no password
	PasswordFile string `mapstructure:"password_file"` // or a systemd credential path
	HostID       string `mapstructure:"host_id"`       // this host's name in the fleet; empty = the host name
}

// Admin configures the operator API.
type Admin struct {
	Socket        string `mapstructure:"socket"`         // empty = <runtime_dir>/admin.sock
	Group         string `mapstructure:"group"`          // members may use the socket besides root
	TCPListen     string `mapstructure:"tcp_listen"`     // optional remote API; requires token_file
	TokenFile     string `mapstructure:"token_file"`     // bearer token for tcp_listen
	MetricsListen string `mapstructure:"metrics_listen"` // optional loopback /metrics
}

// LockFile is where the single-daemon lock lives.
func (c *Config) LockFile() string { return joinPath(c.RuntimeDir, "airlockd.lock") }

// CADir is where the CA lives inside the state directory.
func (c *Config) CADir() string { return joinPath(c.StateDir, "ca") }

// Credential returns the named credential.
func (c *Config) Credential(name string) (Credential, bool) {
	for _, cr := range c.Credentials {
		if cr.Name == name {
			return cr, true
		}
	}
	return Credential{}, false
}
