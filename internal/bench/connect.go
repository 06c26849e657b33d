package bench

import (
	"fmt"
	"strings"
)

// ConnectResult compares the cost of connect() to a destination Airlock does
// not capture, from a cgroup with the capture programs attached and without.
type ConnectResult struct {
	Iterations                   int
	UDPDetached, UDPAttached     Summary // ns per connect() of a UDP socket (the hook alone)
	TCPDetached, TCPAttached     Summary // ns per socket()+connect()+close() to a loopback listener
	AttachedWhere, DetachedWhere string
}

func (c *ConnectResult) overheadNs() float64 { return c.UDPAttached.Median - c.UDPDetached.Median }

func (c *ConnectResult) write(b *strings.Builder) {
	fmt.Fprintf(b, "## connect() with the capture programs attached\n\nA destination outside the targets (127.0.0.1), %d connect() calls per run. "+
		"UDP connect() on one socket isolates the cgroup/connect4 hook; the TCP figure is a whole socket, loopback handshake and close. Each figure is the median of batches (1000 UDP or 100 TCP calls), so a preempted batch does not count. "+
		"Attached: %s. Not attached: %s.\n\n", c.Iterations, c.AttachedWhere, c.DetachedWhere)
	b.WriteString("| | not attached ns | attached ns | added ns |\n| --- | ---: | ---: | ---: |\n")
	fmt.Fprintf(b, "| UDP connect() | %s | %s | %s |\n", c.UDPDetached, c.UDPAttached, format(c.overheadNs()))
	fmt.Fprintf(b, "| TCP socket+connect+close | %s | %s | %s |\n\n", c.TCPDetached, c.TCPAttached, format(c.TCPAttached.Median-c.TCPDetached.Median))
}

// MeasureConnect runs runs rounds, each measuring outside and inside the
// attached cgroup (enter moves the process in and returns how to leave),
// alternating which goes first so that warm caches favour neither.
func MeasureConnect(iterations, runs int, enter func() (func(), error)) (*ConnectResult, error) {
	var ud, ua, td, ta []float64
	for run := range runs {
		for _, attached := range [][]bool{{false, true}, {true, false}}[run%2] {
			u, t, err := connectIn(iterations, attached, enter)
			if err != nil {
				return nil, err
			}
			if attached {
				ua, ta = append(ua, u), append(ta, t)
			} else {
				ud, td = append(ud, u), append(td, t)
			}
		}
	}
	return &ConnectResult{Iterations: iterations, UDPDetached: Summarize(ud), UDPAttached: Summarize(ua),
		TCPDetached: Summarize(td), TCPAttached: Summarize(ta)}, nil
}

func connectIn(iterations int, attached bool, enter func() (func(), error)) (float64, float64, error) {
	if attached {
		leave, err := enter()
		if err != nil {
			return 0, 0, err
		}
		defer leave()
	}
	return connectCosts(iterations)
}
