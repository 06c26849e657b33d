package containers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// TrustRecord is what InstallTrust changed in one container, kept on the
// host so UninstallTrust undoes exactly that.
type TrustRecord struct {
	Container string   `json:"container"`
	Appended  []string `json:"appended"` // bundles the CA block was appended to
	Anchors   []string `json:"anchors"`  // anchor files written
}

// RootOf is the root directory of a process as the host sees it.
func RootOf(pid int) string { return "/proc/" + strconv.Itoa(pid) + "/root" }

// SaveTrustRecord and LoadTrustRecord keep records under dir, one per container.
func SaveTrustRecord(dir string, rec TrustRecord) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	b, _ := json.MarshalIndent(rec, "", "  ")
	return os.WriteFile(filepath.Join(dir, rec.Container+".json"), b, 0o600)
}

// LoadTrustRecord reads the record of container id (fs.ErrNotExist if none).
func LoadTrustRecord(dir, id string) (TrustRecord, error) {
	var rec TrustRecord
	b, err := os.ReadFile(filepath.Join(dir, id+".json"))
	if err != nil {
		return rec, err
	}
	return rec, json.Unmarshal(b, &rec)
}

// RemoveTrustRecord forgets the record of container id.
func RemoveTrustRecord(dir, id string) error {
	err := os.Remove(filepath.Join(dir, id+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
