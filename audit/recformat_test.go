package audit

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// Recordings stored by earlier versions (JSON with base64'd events, as is
// or gzip'd by the standard library) replay exactly as before, beside the
// framed form; so does a spooled JSON recording that an earlier daemon left
// behind and this writer stores (compressRaw takes it as it is).
func TestOldRecordingsReplay(t *testing.T) {
	for name, rc := range map[string]*Recording{"short": sampleRecording(), "streamed": streamRecording(300)} {
		js, err := json.Marshal(rc)
		if err != nil {
			t.Fatal(err)
		}
		var gz bytes.Buffer
		zw, _ := stdgzip.NewWriterLevel(&gz, stdgzip.BestSpeed)
		if _, err := zw.Write(js); err != nil || zw.Close() != nil {
			t.Fatal(err)
		}
		fromSpool, err := compressRaw(js)
		if err != nil {
			t.Fatal(err)
		}
		framed, err := compressRecording(rc)
		if err != nil {
			t.Fatal(err)
		}
		for form, blob := range map[string][]byte{"json": js, "json gzip": gz.Bytes(), "old spool": fromSpool, "framed": framed} {
			if got, err := DecodeRecording(blob); err != nil || !reflect.DeepEqual(got, rc) {
				t.Errorf("%s recording stored as %s: read back %v", name, form, err)
			}
		}
	}
}

// The framed form keeps every byte, offset (negative too) and status, and
// a truncated or altered one is an error, never a panic.
func TestFramedRecordingRoundTrip(t *testing.T) {
	rc := &Recording{RequestBody: []byte("{\"a\":\"\x00\xff\"}"), Status: 529, ContentType: "application/json",
		Events: []Event{{Offset: -time.Second, Data: []byte{0, 1, 0xff}}, {Offset: 1 << 40, Data: []byte("event: x\n\n")}}}
	b := encodeFramed(rc)
	got, err := decodeFramed(b)
	if err != nil || !reflect.DeepEqual(got, rc) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for i := len(recMagic); i < len(b); i++ {
		if _, err := decodeFramed(b[:i]); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", i, len(b))
		}
	}
	if _, err := decodeFramed(append(bytes.Clone(b), 0)); err == nil {
		t.Fatal("a trailing byte: no error")
	}
}

func FuzzDecodeRecording(f *testing.F) {
	f.Add(encodeFramed(sampleRecording()))
	f.Add([]byte(recMagic + "\x00\x00\x00\xff\xff\xff\xff\x0f"))
	f.Add(encodeFramed(&Recording{}))
	f.Fuzz(func(t *testing.T, b []byte) {
		rc, err := DecodeRecording(b)
		if err != nil || !bytes.HasPrefix(b, []byte(recMagic)) {
			return
		}
		if again, err := decodeFramed(encodeFramed(rc)); err != nil || !reflect.DeepEqual(again, rc) {
			t.Fatalf("a decoded recording does not survive encoding: %v", err)
		}
	})
}

// finalize appends the recording hash to the spooled encoding instead of
// encoding the record again: the result must be the canonical encoding,
// byte for byte, whatever the record holds, and recording_sha256 must stay
// the last field that canonical can emit.
func TestRecordingHashIsAppendedCanonically(t *testing.T) {
	full := sampleRecord(3)
	full.Actions = []Action{{ID: "toolu_1", Type: "tool_use", Tool: "Bash", Input: json.RawMessage(`{"command":"ls"}`)}}
	full.ToolResults = []ToolResult{{ToolUseID: "toolu_0", Size: 12, Excerpt: "a \"quoted\" <tag>"}}
	bare := &Record{Time: t0}
	for _, rec := range []*Record{sampleRecord(1), full, bare} {
		body, err := canonical(rec)
		if err != nil {
			t.Fatal(err)
		}
		h := blobHash([]byte("recording"))
		got, err := addRecordingHash(rec, body, h)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := canonical(rec); !bytes.Equal(got, want) {
			t.Fatalf("appended:\n%s\ncanonical:\n%s", got, want)
		}
	}
	typ := reflect.TypeFor[Record]()
	f, _ := typ.FieldByName("RecordingHash")
	for i := f.Index[0] + 1; i < typ.NumField(); i++ {
		if name := typ.Field(i).Name; name != "Hash" && name != "PrevHash" {
			t.Fatalf("field %s follows RecordingHash: canonical would emit it after recording_sha256", name)
		}
	}
}
