package admin

import "time"

// Status is GET /v1/status: what the daemon runs and whether it is healthy.
// The daemon fills it, the API serves it as JSON, the CLI prints it; one
// type, so the three cannot drift.
type Status struct {
	Version     string             `json:"version"`
	PID         int                `json:"pid"`
	Started     time.Time          `json:"started"`
	Uptime      string             `json:"uptime"` // rounded to the second
	Capture     CaptureStatus      `json:"capture"`
	CA          CAStatus           `json:"ca"`
	Credentials []CredentialStatus `json:"credentials"`
	Policy      PolicyStatus       `json:"policy"`
	Audit       AuditStatus        `json:"audit"`
	Approvals   ApprovalsStatus    `json:"approvals"`
}

// CaptureStatus says where the eBPF programs are attached and what they
// redirect. Enabled is false for a daemon assembled without capture (tests,
// the benchmark's plain listener).
type CaptureStatus struct {
	Enabled    bool              `json:"enabled"`
	FailMode   string            `json:"fail_mode"`
	Cgroup     string            `json:"cgroup,omitempty"` // the cgroup v2 directory attached to
	PinDir     string            `json:"pin_dir"`
	Targets    []string          `json:"targets"`    // prefix:port the kernel redirects now
	APIHosts   []string          `json:"api_hosts"`  // SNIs that are intercepted
	Listener   []string          `json:"listener"`   // bound addresses, IPv4 first
	Namespaces NamespaceStatus   `json:"namespaces"` // listeners in other network namespaces
	Counters   map[string]uint64 `json:"counters"`   // the kernel's per-CPU counters, summed
}

// NamespaceStatus counts the listeners opened in captured processes'
// network namespaces.
type NamespaceStatus struct {
	Served       int    `json:"served"`
	Opened       uint64 `json:"opened"`
	Released     uint64 `json:"released"`
	FirstContact uint64 `json:"first_contact"`
	Refused      uint64 `json:"refused"`
	Held         uint64 `json:"held"`        // connections held at first contact
	HeldPassed   uint64 `json:"held_passed"` // held connections let through to a new listener
	Failures     uint64 `json:"failures"`
	OverLimit    uint64 `json:"over_limit"` // first contacts turned away at capture.containers.max_namespaces
}

// CAStatus identifies the CA clients must trust.
type CAStatus struct {
	Fingerprint string    `json:"fingerprint"` // SHA-256 of the certificate
	NotAfter    time.Time `json:"not_after"`
}

// CredentialStatus says whether a managed credential has a value now and
// where it comes from — never the value.
type CredentialStatus struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Source string `json:"source"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
}

// PolicyStatus names the policy in force ("" for the built-in default).
type PolicyStatus struct {
	File string `json:"file"`
}

// AuditStatus says where records go and whether they can be written.
type AuditStatus struct {
	Path  string `json:"path"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// ApprovalsStatus counts held requests.
type ApprovalsStatus struct {
	Pending int    `json:"pending"`
	Timeout string `json:"timeout"`
}

// Problems lists what the status reports as broken: a managed credential
// without a value, an audit store that cannot be written.
func (s Status) Problems() []string {
	var out []string
	for _, c := range s.Credentials {
		if !c.OK {
			out = append(out, "credential "+c.Name+": "+c.Error)
		}
	}
	if !s.Audit.OK {
		out = append(out, "audit store: "+s.Audit.Error)
	}
	return out
}
