//go:build !linux

package atomicfile

import (
	"os"
	"path/filepath"
	"runtime"
)

// syncFSWorks is false: a barrier syncs the files of a batch one by one,
// and the renames are made durable by syncing their directories.
const syncFSWorks = false

// barrier fsyncs each file of the batch.
func barrier(_ *os.File, batch []*File) error {
	for _, f := range batch {
		if err := f.File.Sync(); err != nil {
			return err
		}
	}
	return nil
}

// syncDirs fsyncs the directories the files were renamed in, once each.
// Windows cannot sync a directory.
func syncDirs(renamed []*File) {
	if runtime.GOOS == "windows" {
		return
	}
	done := map[string]bool{}
	for _, f := range renamed {
		dir := filepath.Dir(f.target)
		if done[dir] {
			continue
		}
		done[dir] = true
		var d *os.File
		var err error
		if f.root != nil {
			d, err = f.root.Open(dir)
		} else {
			d, err = os.Open(dir)
		}
		if err == nil {
			d.Sync()
			d.Close()
		}
	}
}
