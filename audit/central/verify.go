package central

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/airlock-dev/airlock/audit"
)

// HostReport is one host's chain as stored centrally.
type HostReport struct {
	Host string `json:"host"`
	audit.VerifyReport
}

// Verify walks every host's chain (or only host's) as stored centrally and
// names each gap, edit, insertion or reordering, with the rules the local
// store uses. The head each shipper recorded (hosts.head_seq) catches
// records deleted at the tail.
func (db *DB) Verify(ctx context.Context, host string) ([]HostReport, error) {
	heads, err := db.heads(ctx, host)
	if err != nil {
		return nil, err
	}
	var out []HostReport
	for _, h := range heads {
		rep, err := db.verifyHost(ctx, h)
		if err != nil {
			return nil, err
		}
		out = append(out, HostReport{Host: h.host, VerifyReport: rep})
	}
	return out, nil
}

type hostHead struct {
	host      string
	seq       int64
	hash      string
	firstSeq  int64
	firstPrev string
}

func (db *DB) heads(ctx context.Context, only string) ([]hostHead, error) {
	rows, err := db.pool.Query(ctx, `SELECT h.host, h.head_seq, h.head_hash, COALESCE(c.first_seq, 1), COALESCE(c.prev_hash, '')
		FROM hosts h LEFT JOIN checkpoints c ON c.host = h.host WHERE $1 = '' OR h.host = $1`, only)
	if err != nil {
		return nil, fmt.Errorf("reading central hosts: %w", err)
	}
	defer rows.Close()
	var out []hostHead
	for rows.Next() {
		var h hostHead
		if err := rows.Scan(&h.host, &h.seq, &h.hash, &h.firstSeq, &h.firstPrev); err != nil {
			return nil, fmt.Errorf("reading central hosts: %w", err)
		}
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].host < out[j].host })
	return out, rows.Err()
}

func (db *DB) verifyHost(ctx context.Context, h hostHead) (audit.VerifyReport, error) {
	v := audit.NewChainVerifier(h.firstSeq, h.firstPrev)
	if err := db.eachRow(ctx, h.host, h.firstSeq, math.MaxInt64, v.Step); err != nil {
		return audit.VerifyReport{}, err
	}
	return v.Finish(h.seq, h.hash), nil
}

// eachRow calls fn with host's rows from..to (inclusive), in order.
func (db *DB) eachRow(ctx context.Context, host string, from, to int64, fn func(audit.Row)) error {
	rows, err := db.pool.Query(ctx, `SELECT seq, time_ns, caller_uid, session_id, caller_user, caller_exe, model, decision,
		body, recording, prev_hash, hash FROM records WHERE host = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq`, host, from, to)
	if err != nil {
		return fmt.Errorf("verifying %s centrally: %w", host, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r audit.Row
		if err := rows.Scan(&r.Seq, &r.TimeNS, &r.UID, &r.Session, &r.User, &r.Exe, &r.Model, &r.Decision,
			&r.Body, &r.Recording, &r.PrevHash, &r.Hash); err != nil {
			return fmt.Errorf("verifying %s centrally: %w", host, err)
		}
		fn(r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("verifying %s centrally: %w", host, err)
	}
	return nil
}

// VerifyAround checks host's record seq where it stands, as the local
// store's VerifyAround does: its content, its recording, and its links to
// the records either side. A record's page needs this, not the whole chain.
func (db *DB) VerifyAround(ctx context.Context, host string, seq int64) (audit.VerifyReport, error) {
	var got []audit.Row
	if err := db.eachRow(ctx, host, seq-2, seq+1, func(r audit.Row) { got = append(got, r) }); err != nil {
		return audit.VerifyReport{}, err
	}
	if !slices.ContainsFunc(got, func(r audit.Row) bool { return r.Seq == seq }) {
		return audit.VerifyReport{}, fmt.Errorf("record %d of %s: %w", seq, host, audit.ErrNotFound)
	}
	heads, err := db.heads(ctx, host)
	if err != nil {
		return audit.VerifyReport{}, err
	}
	if len(heads) != 1 {
		return audit.VerifyReport{}, fmt.Errorf("host %q: %w", host, audit.ErrNotFound)
	}
	v := audit.NewChainVerifier(got[0].Seq, got[0].PrevHash)
	for _, r := range got {
		v.Step(r)
	}
	if last := got[len(got)-1]; last.Seq >= heads[0].seq {
		return v.Finish(heads[0].seq, heads[0].hash), nil
	}
	return v.Finish(0, ""), nil
}
