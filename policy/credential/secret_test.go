package credential

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

const fakeValue = "sk-ant-api03-FAKE-demo-key-not-real"

type holder struct {
	Name   string
	Key    Secret
	hidden Secret
	Ptr    *Secret
}

// Every formatting path prints a redacted form, never the value.
func TestSecretNeverFormatsValue(t *testing.T) {
	s := NewSecret(fakeValue)
	h := holder{Name: "n", Key: s, hidden: s, Ptr: &s}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%T"} {
		outputs = append(outputs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, h), fmt.Sprintf(verb, &h), fmt.Sprintf(verb, []Secret{s}))
	}
	outputs = append(outputs, fmt.Sprint(s, h), fmt.Sprintln(map[string]Secret{"k": s}), s.String(), s.GoString())
	for _, v := range []any{s, h, &h, map[string]Secret{"k": s}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(b))
	}
	txt, _ := s.MarshalText()
	outputs = append(outputs, string(txt), zapOutput(s, h), slogOutput(s, h))
	for _, out := range outputs {
		if strings.Contains(out, "FAKE-demo") || strings.Contains(out, fakeValue) {
			t.Errorf("value leaked: %s", out)
		}
	}
	if got := fmt.Sprint(s); got != "[redacted sk-ant-api…]" {
		t.Errorf("redacted form %q", got)
	}
	if s.Reveal() != fakeValue {
		t.Error("Reveal lost the value")
	}
}

func zapOutput(s Secret, h holder) string {
	var buf bytes.Buffer
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	log := zap.New(zapcore.NewCore(enc, zapcore.AddSync(&buf), zap.DebugLevel))
	log.Info("x", zap.Any("any", s), zap.Stringer("stringer", s), zap.Reflect("reflect", h), zap.Any("struct", h),
		zap.Any("ptr", &h), zap.Inline(zapcore.ObjectMarshalerFunc(func(e zapcore.ObjectEncoder) error {
			return e.AddReflected("inline", s)
		})))
	log.Sugar().Infow("sugar", "k", s, "h", h)
	log.Sugar().Infof("%v %s %+v", s, s, h)
	return buf.String()
}

func slogOutput(s Secret, h holder) string {
	var buf bytes.Buffer
	for _, hd := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		slog.New(hd).Info("x", "secret", s, "holder", h, slog.Any("any", s))
	}
	return buf.String()
}

func TestSecretRedactedForms(t *testing.T) {
	for v, want := range map[string]string{
		"sk-ant-oat01-FAKE": "[redacted sk-ant-oat…]", "sk-ant-admin01-FAKE": "[redacted sk-ant-admin…]",
		"ghp_FAKE": "[redacted]", "": "[redacted empty]",
	} {
		if got := NewSecret(v).String(); got != want {
			t.Errorf("%q: %q, want %q", v, got, want)
		}
	}
	var zero Secret
	if zero.Reveal() != "" || !zero.IsZero() || zero.String() != "[redacted empty]" {
		t.Error("zero Secret")
	}
}
