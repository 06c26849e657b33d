package admin

import (
	"context"
	"fmt"
	"os/user"
	"strconv"
)

// Peer is who is on the other end of an admin connection.
type Peer struct {
	Via    string   `json:"via"` // "unix" or "tcp"
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	PID    int32    `json:"pid"`
	Groups []uint32 `json:"groups,omitempty"` // supplementary groups of the peer process
	Addr   string   `json:"addr,omitempty"`   // remote address for TCP
	Err    string   `json:"-"`                // why the credentials could not be read
}

type peerKey struct{}

func withPeer(ctx context.Context, p *Peer) context.Context {
	return context.WithValue(ctx, peerKey{}, p)
}

// PeerFromContext returns the admin-connection peer stored for a request.
func PeerFromContext(ctx context.Context) (*Peer, bool) {
	p, ok := ctx.Value(peerKey{}).(*Peer)
	return p, ok && p != nil
}

// Identity is the approver name recorded for decisions: "uid:0(root)" for a
// socket peer, "token@addr" for the TCP listener. It is never taken from a
// request body.
func (p *Peer) Identity() string {
	if p.Via == "tcp" {
		return "token@" + p.Addr
	}
	name := strconv.FormatUint(uint64(p.UID), 10)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	return fmt.Sprintf("uid:%d(%s)", p.UID, name)
}

// inGroup reports whether the peer is root or a member of gid, by its primary
// gid, its process's supplementary groups, or the user database.
func (p *Peer) inGroup(gid uint32, haveGroup bool) bool {
	if p.UID == 0 {
		return true
	}
	if !haveGroup {
		return false
	}
	if p.GID == gid {
		return true
	}
	for _, g := range p.Groups {
		if g == gid {
			return true
		}
	}
	return userInGroup(p.UID, gid)
}

func userInGroup(uid, gid uint32) bool {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return false
	}
	ids, err := u.GroupIds()
	if err != nil {
		return false
	}
	want := strconv.FormatUint(uint64(gid), 10)
	for _, id := range ids {
		if id == want {
			return true
		}
	}
	return false
}

// lookupGroup resolves a group name or numeric gid.
func lookupGroup(name string) (uint32, error) {
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(n), nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("looking up admin group %q: %w", name, err)
	}
	n, err := strconv.ParseUint(g.Gid, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("admin group %q has gid %q: %w", name, g.Gid, err)
	}
	return uint32(n), nil
}
