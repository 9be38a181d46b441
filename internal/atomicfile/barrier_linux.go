package atomicfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFSWorks says that a barrier covers a whole file system, renames
// included, so Close takes one more for the last renames.
const syncFSWorks = true

// barrier makes every file written on the file system of dir durable,
// with syncfs(2). dir was opened before the first of them was written, so
// syncfs reports any writeback error since then, once.
func barrier(dir *os.File, _ []*File) error {
	rc, err := dir.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			if serr = unix.Syncfs(int(fd)); serr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return os.NewSyscallError("syncfs", serr)
	}
	return nil
}

// syncDirs does nothing here: the next barrier covers the renames.
func syncDirs([]*File) {}
