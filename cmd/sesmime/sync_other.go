//go:build !linux

package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sesmime/sesmime/inject"
)

// syncFSWorks says the system can sync a whole file system at once. It
// cannot here: each written file is synced on its own.
const syncFSWorks = false

// syncDir is not used where syncFSWorks is false.
func syncDir(open func() (*os.File, error)) error { return nil }

// devOf is not used where syncFSWorks is false.
func devOf(fi fs.FileInfo) uint64 { return 0 }

// exchange is not done here: pending files are renamed.
func exchange(a, b string) error { return errors.ErrUnsupported }

// temp returns a new temporary file in dir; nothing is pooled here, as
// nothing is exchanged.
func (p *processor) temp(dir string) (f *os.File, name string, reused bool, err error) {
	f, name, err = createTemp(func(name string) (*os.File, error) {
		return openTemp(filepath.Join(dir, name))
	})
	return f, filepath.Join(dir, name), false, err
}

// inPlaceSmall has no shortcut here: inPlace does the work.
func (p *processor) inPlaceSmall(real string) (res inject.Result, pend *pending, done bool, err error) {
	return res, nil, false, nil
}

// dirCache is used on Linux only, where temporary files are reused.
type dirCache struct{}
