package admin

import (
	"fmt"
	"testing"

	"github.com/airlock-dev/airlock/audit"
)

// Actions are counted per tool and decision, and a client inventing tool
// names cannot grow the metric past a bound.
func TestActionsMetricIsBounded(t *testing.T) {
	m := NewMetrics()
	for i := range 5 * maxToolLabels {
		m.Observe(&audit.Record{Decision: "allow", Actions: []audit.Action{{Tool: fmt.Sprintf("tool_%d", i), Decision: "allow"}}})
	}
	m.Observe(&audit.Record{Decision: "allow", Actions: []audit.Action{{Tool: "tool_0", Decision: "allow"}}})
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	series, byTool := 0, map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "airlock_actions_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			series++
			for _, l := range s.GetLabel() {
				if l.GetName() == "tool" {
					byTool[l.GetValue()] = s.GetCounter().GetValue()
				}
			}
		}
	}
	if series != maxToolLabels+1 || byTool["tool_0"] != 2 || byTool["other"] != float64(4*maxToolLabels) {
		t.Errorf("%d series (want %d), tool_0 %v (want 2), other %v (want %d)", series, maxToolLabels+1,
			byTool["tool_0"], byTool["other"], 4*maxToolLabels)
	}
}
