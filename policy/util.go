package policy

import "slices"

func contains(list []string, s string) bool { return slices.Contains(list, s) }

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}
