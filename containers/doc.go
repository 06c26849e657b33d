// Package containers names the container or pod a captured process runs in
// (from its cgroup path, and from the container runtime's API socket when
// there is one) and provisions Airlock's CA into a container's own trust
// store, which it reads instead of the host's.
package containers
