package policy

import (
	"testing"

	"github.com/airlock-dev/airlock/caller"
)

// TestContainerAndPodVisible: rules can name a container by id, name or
// image and a pod by namespace, name or uid; outside one they read "".
func TestContainerAndPodVisible(t *testing.T) {
	src := []byte("rules:\n" +
		"  - id: sandbox\n    when: 'caller.pod.namespace == \"sandbox\" || caller.pod.uid == \"u-1\"'\n    action: deny\n" +
		"  - id: legacy\n    when: 'caller.container.image.startsWith(\"legacy-agent:\") && caller.container.name == \"agent\"'\n    action: allow\n" +
		"  - id: host\n    when: 'caller.container.id == \"\" && caller.pod.name == \"\"'\n    action: require_approval\n")
	e, err := Compile(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		p    caller.Process
		rule string
	}{
		{caller.Process{Container: "c1", ContainerName: "agent", ContainerImage: "legacy-agent:1"}, "legacy"},
		{caller.Process{Container: "c2", PodNamespace: "sandbox", PodName: "x"}, "sandbox"},
		{caller.Process{Container: "c3", PodUID: "u-1"}, "sandbox"},
		{caller.Process{UID: 1000}, "host"},
	}
	for _, c := range cases {
		if d := e.Decide(&Input{Caller: c.p}); d.Rule != c.rule {
			t.Errorf("%+v: rule %q, want %q", c.p, d.Rule, c.rule)
		}
	}
}
