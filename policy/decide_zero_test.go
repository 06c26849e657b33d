package policy

import "testing"

// A rule that reads a detector's count must not fail (and so deny) on a
// request in which that detector found nothing.
func TestFindingsOfCleanRequestReadZero(t *testing.T) {
	src := []byte(`rules:
  - id: keys
    when: findings["private_key"] > 0 || findings["employee_id"] > 0
    action: deny
    reason: key in prompt
default:
  action: allow
`)
	e, err := Compile(src, Options{Detectors: []string{"employee_id"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := e.Decide(&Input{}); d.Action != "allow" || d.Rule == "keys" {
		t.Fatalf("clean request: %+v", d)
	}
	if d := e.Decide(&Input{Findings: map[string]int{"employee_id": 1}}); d.Rule != "keys" || d.Action != "deny" {
		t.Fatalf("custom detector found: %+v", d)
	}
	if d := e.Decide(&Input{Findings: map[string]int{"private_key": 2}}); d.Rule != "keys" {
		t.Fatalf("private key found: %+v", d)
	}
}
