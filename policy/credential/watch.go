package credential

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"
)

// Watch reloads the store whenever a credential file changes, until ctx is
// done. It watches the directories, not the files, so that atomic renames
// (how secret managers and editors replace files) are seen too.
func (s *Store) Watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching credential files: %w", err)
	}
	defer w.Close()
	files := s.watchedFiles()
	for dir := range dirsOf(files) {
		if err := w.Add(dir); err != nil {
			return fmt.Errorf("watching credential directory %s: %w", dir, err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-w.Events:
			if files[filepath.Clean(ev.Name)] {
				s.log.Info("credential file changed, reloading", zap.String("file", ev.Name))
				if err := s.Reload(); err != nil {
					s.log.Error("credential reload: keeping the previous values", zap.Error(err))
				}
			}
		case err := <-w.Errors:
			s.log.Warn("credential watcher", zap.Error(err))
		}
	}
}

func (s *Store) watchedFiles() map[string]bool {
	files := map[string]bool{}
	for _, sp := range s.specs {
		if sp.File != "" {
			files[filepath.Clean(sp.File)] = true
		}
		if sp.Systemd != "" {
			if p, err := systemdPath(sp.Systemd); err == nil {
				files[filepath.Clean(p)] = true
			}
		}
	}
	return files
}

func dirsOf(files map[string]bool) map[string]bool {
	dirs := map[string]bool{}
	for f := range files {
		dirs[filepath.Dir(f)] = true
	}
	return dirs
}
