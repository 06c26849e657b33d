package intercept

import (
	"errors"
	"testing"
)

func TestParseClientHello(t *testing.T) {
	hello := clientHello(t, "api.test")
	noSNI := clientHello(t, "")
	split := splitRecords(hello, 100)
	tests := []struct {
		name    string
		data    []byte
		want    string
		wantErr error
	}{
		{"real hello", hello, "api.test", nil},
		{"split across records", split, "api.test", nil},
		{"no sni", noSNI, "", ErrNoSNI},
		{"empty", nil, "", ErrNeedMore},
		{"header only", hello[:5], "", ErrNeedMore},
		{"truncated", hello[:len(hello)-10], "", ErrNeedMore},
		{"http", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "", ErrNotTLS},
		{"alert record", []byte{21, 3, 3, 0, 2, 2, 40}, "", ErrNotTLS},
		{"server hello", append([]byte{22, 3, 3, 0, 4}, 2, 0, 0, 0), "", ErrNotTLS},
		{"garbage body", append([]byte{22, 3, 1, 0, 8}, 1, 0, 0, 4, 3, 3, 0, 0), "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseClientHello(tt.data)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("ParseClientHello = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// splitRecords re-frames a single-record ClientHello into records of at
// most n payload bytes, as TLS allows.
func splitRecords(rec []byte, n int) []byte {
	payload := rec[5:]
	var out []byte
	for len(payload) > 0 {
		k := min(n, len(payload))
		out = append(out, 22, rec[1], rec[2], byte(k>>8), byte(k))
		out = append(out, payload[:k]...)
		payload = payload[k:]
	}
	return out
}

func FuzzParseClientHello(f *testing.F) {
	hello := clientHello(f, "api.test")
	f.Add(hello)
	f.Add(splitRecords(hello, 7))
	f.Add(clientHello(f, ""))
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sni, err := ParseClientHello(data)
		if err == nil && sni == "" {
			t.Errorf("success without a server name")
		}
		if err != nil && sni != "" {
			t.Errorf("error %v with server name %q", err, sni)
		}
	})
}
