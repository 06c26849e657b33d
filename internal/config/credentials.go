package config

import "fmt"

func validateCredentials(ps *problems, creds []Credential) {
	if len(creds) == 0 {
		ps.add("credentials", "at least one managed credential is required, e.g. "+
			"[{name: default, kind: api_key, file: /etc/airlock/anthropic.key}]")
	}
	seen := map[string]bool{}
	for i, c := range creds {
		key := fmt.Sprintf("credentials[%d]", i)
		if c.Name == "" {
			ps.add(key+".name", "is required")
		} else if seen[c.Name] {
			ps.add(key+".name", "%q is used twice", c.Name)
		}
		seen[c.Name] = true
		oneOf(ps, key+".kind", c.Kind, KindAPIKey, KindBearer)
		c.validateSource(ps, key)
	}
}

func (c Credential) validateSource(ps *problems, key string) {
	n := 0
	for _, set := range []bool{c.File != "", c.Env != "", c.Systemd != "", len(c.Command) > 0} {
		if set {
			n++
		}
	}
	if n != 1 {
		ps.add(key, "set exactly one of file, env, systemd, command (found %d)", n)
	}
	if c.File != "" {
		absPath(ps, key+".file", c.File)
	}
	if c.TTL < 0 {
		ps.add(key+".ttl", "must not be negative")
	}
	if (c.TTL > 0 || c.Timeout > 0) && len(c.Command) == 0 {
		ps.add(key+".ttl", "ttl and timeout apply only to a command source")
	}
	if c.Timeout < 0 {
		ps.add(key+".timeout", "must not be negative")
	}
}
