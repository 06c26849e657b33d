package gateway

import "io"

// passBody relays a body the gateway does not inspect (file downloads,
// batch results, unknown endpoints). It keeps the latest chunk back so that
// the audit record is written before the last bytes go out.
type passBody struct {
	ex          *exchange
	src         io.ReadCloser
	held, spare []byte
	out         []byte
	eof         bool
}

func (b *passBody) Read(p []byte) (int, error) {
	for len(b.out) == 0 {
		if b.eof {
			return 0, io.EOF
		}
		if err := b.advance(); err != nil {
			return 0, err
		}
	}
	n := copy(p, b.out)
	b.out = b.out[n:]
	return n, nil
}

// advance reads one chunk: it releases the chunk held so far and holds the
// new one, or at EOF audits and releases everything.
func (b *passBody) advance() error {
	if cap(b.spare) < 4<<10 { // first read, or the held chunk was a small scrubbed copy
		b.spare = make([]byte, 32<<10)
	}
	n, err := b.src.Read(b.spare[:cap(b.spare)])
	chunk := scrubBytes(b.spare[:n], b.ex.secret())
	b.ex.rec.BytesOut += int64(len(chunk))
	switch {
	case err == io.EOF:
		b.eof = true
		if b.ex.g.finish(b.ex) != nil {
			return errAuditFailed
		}
		b.out = append(b.held, chunk...)
		return nil
	case err != nil:
		b.ex.g.finish(b.ex)
		return err
	}
	b.out = b.held
	b.held, b.spare = chunk, b.held[:0]
	return nil
}

// Close finishes the audit if the client went away before the end.
func (b *passBody) Close() error {
	b.ex.g.finish(b.ex)
	return b.src.Close()
}
