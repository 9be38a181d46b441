//go:build !unix

package atomicfile

import (
	"io/fs"
	"os"
)

func openTemp(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
}

func rename(oldname, newname string) error { return os.Rename(oldname, newname) }

func owner(fs.FileInfo) (uid, gid int) { return -1, -1 }

func devOf(fs.FileInfo) uint64 { return 0 }

// modeKept compares the owner's write bit only: it is all that Windows
// keeps (the read-only attribute).
func modeKept(got, want fs.FileMode) bool { return got&0o200 == want&0o200 }
