//go:build linux

package containers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// The block opens with a newline of its own, so removing it restores a
// bundle that did not end in one byte for byte.
const blockStart, blockEnd = "\n# BEGIN airlock CA\n", "# END airlock CA\n"

// InstallTrust adds caPEM to the system bundles of a container whose root
// is root (RootOf its init process: /proc/PID/root). Every path is resolved inside the
// container's root (openat2 RESOLVE_IN_ROOT), so a hostile image's symlink
// cannot make the host write outside it. Idempotent.
func InstallTrust(root string, id string, caPEM []byte) (TrustRecord, error) {
	rec := TrustRecord{Container: id}
	if IsHostRoot(root) {
		// A runtime's init process (runc init) is in the container's cgroup
		// and namespaces before it pivots into the image: never write there.
		return rec, fmt.Errorf("container %s: %w", short(id), ErrHostRoot)
	}
	rootDir, err := openRoot(root)
	if err != nil {
		return rec, err
	}
	defer rootDir.Close()
	block := append(append([]byte(blockStart), bytes.TrimSpace(caPEM)...), "\n"+blockEnd...)
	for _, b := range Bundles {
		done, err := appendBlock(rootDir, b, block)
		if err != nil {
			return rec, fmt.Errorf("container %s: %s: %w", short(id), b, err)
		}
		if done {
			rec.Appended = append(rec.Appended, b)
		}
	}
	for _, a := range Anchors {
		if writeAnchor(rootDir, a, caPEM) == nil {
			rec.Anchors = append(rec.Anchors, a)
		}
	}
	if len(rec.Appended) == 0 {
		return rec, fmt.Errorf("container %s: %w", short(id), ErrNoBundle)
	}
	return rec, nil
}

// ErrNoBundle means the image has none of the known system CA bundles.
var ErrNoBundle = errors.New("no system CA bundle found (looked for " + fmt.Sprint(Bundles) + ")")

// UninstallTrust removes what rec says InstallTrust added.
func UninstallTrust(root string, rec TrustRecord) error {
	rootDir, err := openRoot(root)
	if err != nil {
		return err
	}
	defer rootDir.Close()
	var errs []error
	for _, b := range rec.Appended {
		errs = append(errs, removeBlock(rootDir, b))
	}
	for _, a := range rec.Anchors {
		if err := unix.Unlinkat(int(rootDir.Fd()), a, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("removing %s: %w", a, err))
		}
	}
	return errors.Join(errs...)
}

func openRoot(root string) (*os.File, error) {
	f, err := os.Open(root)
	if err != nil {
		return nil, fmt.Errorf("opening container root %s: %w", root, err)
	}
	return f, nil
}

// openIn opens path inside root, never leaving it.
func openIn(root *os.File, path string, flags int) (*os.File, error) {
	how := &unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	if flags&unix.O_CREAT != 0 {
		how.Mode = 0o644
	}
	fd, err := unix.Openat2(int(root.Fd()), path, how)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// appendBlock appends block to the bundle at path when it exists and does
// not hold it yet; it reports whether the bundle holds it afterwards.
func appendBlock(root *os.File, path string, block []byte) (bool, error) {
	f, err := openIn(root, path, unix.O_RDWR)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return false, fmt.Errorf("not a regular file")
	}
	data, err := io.ReadAll(f)
	if err != nil || bytes.Contains(data, block) {
		return err == nil, err
	}
	_, err = f.Write(block)
	return err == nil, err
}

func removeBlock(root *os.File, path string) error {
	f, err := openIn(root, path, unix.O_RDWR)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	start := bytes.Index(data, []byte(blockStart))
	end := bytes.Index(data, []byte(blockEnd))
	if start < 0 || end < start {
		return nil
	}
	data = append(data[:start:start], data[end+len(blockEnd):]...)
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err = f.WriteAt(data, 0)
	return err
}

// writeAnchor writes the CA where the image's refresh tool looks, only when
// that directory already exists.
func writeAnchor(root *os.File, path string, caPEM []byte) error {
	dir, err := openIn(root, filepath.Dir(path), unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	dir.Close()
	f, err := openIn(root, path, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_NOFOLLOW)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(caPEM)
	return err
}

func short(id string) string { return id[:min(12, len(id))] }

// TrustHolds lists the system bundles under root (resolved inside it) that
// already hold caPEM.
func TrustHolds(root string, caPEM []byte) ([]string, error) {
	rootDir, err := openRoot(root)
	if err != nil {
		return nil, err
	}
	defer rootDir.Close()
	var holds []string
	for _, b := range Bundles {
		f, err := openIn(rootDir, b, unix.O_RDONLY)
		if err != nil {
			continue
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err == nil && bytes.Contains(data, bytes.TrimSpace(caPEM)) {
			holds = append(holds, b)
		}
	}
	return holds, nil
}
