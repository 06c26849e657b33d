package config

import "github.com/airlock-dev/airlock/policy/mask"

// MaskConfig is the masker configuration this section describes, keyed
// with the install's placeholder key (the daemon and the CLI share it).
func (m Masking) MaskConfig(key []byte) mask.Config {
	mc := mask.Config{Key: key, PII: m.PII, Disable: m.Disable, Enable: m.Enable, RulesFile: m.RulesFile,
		MaxHold: int(m.MaxHold), CutOnOverflow: m.OnOverflow == "cut", Budget: m.Budget, MaxPrefilterBytes: int(m.MaxPrefilter)}
	for _, p := range m.Custom {
		mc.Custom = append(mc.Custom, mask.Custom{Name: p.Name, Pattern: p.Pattern, Keywords: p.Keywords})
	}
	if len(m.Literals) > 0 {
		mc.Literals = []mask.Literal{{Name: "literal", Values: m.Literals}}
	}
	return mc
}
