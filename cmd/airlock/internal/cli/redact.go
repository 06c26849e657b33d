package cli

import (
	"crypto/rand"
	"strings"
	"sync"

	"github.com/airlock-dev/airlock/policy/mask"
)

// A caller's command line may carry the very key Airlock keeps out of the
// API (curl -H "x-api-key: sk-ant-..."): what the tool prints of it goes
// through the product's own credential detectors first. --json output stays
// as stored, for tools that verify or re-process records.
var (
	redactOnce sync.Once
	redactor   *mask.Masker
)

func redactArgs(args []string) string {
	s := strings.Join(args, " ")
	redactOnce.Do(func() {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		redactor, _ = mask.New(mask.Config{Key: key})
	})
	if redactor == nil {
		return "(hidden: masking unavailable)"
	}
	out, _ := redactor.Text(s, nil)
	return out
}
