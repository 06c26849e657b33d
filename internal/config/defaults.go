package config

import (
	"maps"
	"path/filepath"
	"time"

	"github.com/spf13/viper"

	"github.com/airlock-dev/airlock/intercept"
)

// Default paths.
const (
	DefaultFile    = "/etc/airlock/airlock.yaml"
	DefaultConfDir = "/etc/airlock/conf.d"
)

// defaults holds a value for every scalar key, so that AIRLOCK_* variables reach
// every key and an empty file is a working configuration (apart from credentials).
func defaults() map[string]any {
	d := map[string]any{
		"state_dir":                   "/var/lib/airlock",
		"runtime_dir":                 "/run/airlock",
		"drain_timeout":               30 * time.Second,
		"log.level":                   "info",
		"log.format":                  "auto",
		"capture.cgroup":              "",
		"capture.pin_dir":             "/sys/fs/bpf/airlock",
		"capture.listen_v4":           "127.0.0.1:15443",
		"capture.listen_v6":           "[::1]:15443",
		"capture.mark":                0, // drawn at random on every start
		"capture.targets":             []string{"160.79.104.0/23", "2607:6bc0::/48"},
		"capture.ports":               []int{443},
		"capture.hosts":               []string{"api.anthropic.com"},
		"capture.api_hosts":           []string{"api.anthropic.com"},
		"capture.relay_allow":         []string{},
		"capture.fail_mode":           FailClosed,
		"capture.containers.sockets":  []string{"/var/run/docker.sock", "/run/podman/podman.sock"},
		"capture.containers.trust":    "off",
		"tls.handshake_timeout":       10 * time.Second,
		"upstream.override":           "",
		"upstream.extra_ca_file":      "",
		"upstream.proxy":              "",
		"upstream.protocol":           "h2",
		"gateway.max_body":            "32MiB",
		"gateway.max_event":           "4MiB",
		"gateway.action_hold":         "1MiB",
		"gateway.max_inflight_body":   "256MiB",
		"gateway.body_timeout":        time.Minute,
		"policy.file":                 "",
		"masking.pii":                 false,
		"masking.disable":             []string{},
		"masking.enable":              []string{},
		"masking.rules_file":          "",
		"masking.literals":            []string{},
		"masking.max_hold":            "64KiB",
		"masking.on_overflow":         "flush",
		"masking.budget":              3 * time.Second,
		"masking.max_prefilter":       "64MiB",
		"approvals.timeout":           2 * time.Minute,
		"audit.path":                  "",
		"audit.max_age":               90 * 24 * time.Hour,
		"audit.max_size":              "1GiB",
		"audit.fail_open":             false,
		"audit.sync":                  "normal",
		"audit.central.url":           "",
		"audit.central.password_file": "",
		"audit.central.host_id":       "",
		"approvals.central":           false,
		"admin.socket":                "",
		"admin.group":                 "",
		"admin.tcp_listen":            "",
		"admin.token_file":            "",
		"admin.metrics_listen":        "",
	}
	maps.Copy(d, consoleDefaults())
	d["capture.containers.ca_configmaps"] = []string{}
	d["capture.containers.cri_sockets"] = []string{"/run/containerd/containerd.sock", "/run/crio/crio.sock"}
	d["capture.containers.max_namespaces"] = intercept.DefaultMaxNamespaces
	return d
}

// Resolve fills the keys whose defaults derive from others (audit.path from
// state_dir, admin.socket from runtime_dir, credential kinds); keys already
// set are kept. Load resolves; a Config built in code calls it once its
// directories are set.
func (c *Config) Resolve() {
	if c.Audit.Path == "" && c.StateDir != "" {
		c.Audit.Path = filepath.Join(c.StateDir, "audit.db")
	}
	if c.Admin.Socket == "" && c.RuntimeDir != "" {
		c.Admin.Socket = filepath.Join(c.RuntimeDir, "admin.sock")
	}
	for i := range c.Credentials {
		if c.Credentials[i].Kind == "" {
			c.Credentials[i].Kind = KindAPIKey
		}
	}
}

func joinPath(dir, name string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, name)
}

// Default is the configuration an empty file and no environment give: every
// key at its default, no credentials yet (Validate asks for one), derived
// keys not yet resolved. Tests and the benchmark start from it, set what
// they need, then call Resolve.
func Default() *Config {
	v := viper.New()
	for k, val := range defaults() {
		v.SetDefault(k, val)
	}
	var c Config
	if err := v.Unmarshal(&c, viper.DecodeHook(decodeHooks())); err != nil {
		panic("config: the defaults do not decode: " + err.Error()) // a bug in defaults()
	}
	return &c
}
