//go:build !unix

package atomicfile

import "io/fs"

func owner(fs.FileInfo) (uid, gid int) { return -1, -1 }

func devOf(fs.FileInfo) uint64 { return 0 }

// modeKept compares the owner's write bit only: it is all that Windows
// keeps (the read-only attribute).
func modeKept(got, want fs.FileMode) bool { return got&0o200 == want&0o200 }
