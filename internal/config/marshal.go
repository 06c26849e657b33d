package config

import (
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// YAML renders c as a configuration file that Load reads back to c: every
// key under its own name (the mapstructure tags), durations as "30s".
// Tests and the benchmark write airlockd's configuration with it instead of
// hand-written YAML, so a renamed key breaks their build, not their run.
func (c *Config) YAML() ([]byte, error) {
	return yaml.Marshal(plain(reflect.ValueOf(*c)))
}

// plain turns v into maps, lists and scalars keyed by the mapstructure tags.
func plain(v reflect.Value) any {
	if d, ok := v.Interface().(time.Duration); ok {
		return d.String()
	}
	switch v.Kind() {
	case reflect.Struct:
		return plainStruct(v)
	case reflect.Slice:
		if v.IsNil() {
			return []any{}
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = plain(v.Index(i))
		}
		return out
	case reflect.Map, reflect.Interface:
		return v.Interface()
	case reflect.Int, reflect.Int64:
		return v.Int()
	}
	return v.Interface()
}

func plainStruct(v reflect.Value) map[string]any {
	out := map[string]any{}
	for i := range v.NumField() {
		key, opts, _ := strings.Cut(v.Type().Field(i).Tag.Get("mapstructure"), ",")
		f := v.Field(i)
		if key == "" || key == "-" || (opts == "omitempty" || isUnset(f)) && f.IsZero() {
			continue
		}
		out[key] = plain(f)
	}
	return out
}

// isUnset is true for the inline policy's rules and default: present even
// when empty, they would make the file an inline policy.
func isUnset(f reflect.Value) bool {
	return f.Kind() == reflect.Map || (f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Map)
}
