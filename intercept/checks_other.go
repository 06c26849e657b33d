//go:build !linux

package intercept

// Check is one diagnostic of `airlock doctor`.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
	Fix    string `json:"fix,omitempty"`
}

// Checks reports that capture needs linux.
func Checks(Config) []Check {
	return []Check{{Name: "platform", Detail: ErrUnsupported.Error(), Fix: "run airlockd on linux"}}
}
