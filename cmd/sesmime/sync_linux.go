package main

import (
	"errors"
	"io/fs"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// errNotReusable refuses a pooled temporary file.
var errNotReusable = errors.New("temporary file not fit for reuse")

// syncFSWorks says the system can sync a whole file system at once
// (syncfs(2)): written files are then made durable a batch at a time.
const syncFSWorks = true

// syncDir syncs the file system holding the directory that open opens.
func syncDir(open func() (*os.File, error)) error {
	d, err := open()
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return &fs.PathError{Op: "syncfs", Path: d.Name(), Err: err}
	}
	return nil
}

// devOf returns the device number of the file system holding fi.
func devOf(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev)
	}
	return 0
}

// exchange swaps the files at paths a and b, atomically (renameat2(2) with
// RENAME_EXCHANGE). It fails where the file system cannot.
func exchange(a, b string) error {
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}

// effectiveIDs returns the process's effective user and group, read once,
// when the first pooled file is looked at rather than at every start.
var effectiveIDs = sync.OnceValues(func() (uid, gid uint32) {
	return uint32(os.Geteuid()), uint32(os.Getegid())
})

// ownTemp reports whether a reused temporary file with status st ends up
// like a new one: owned by this process, so that its mode can be set, and
// unless the process can give it any owner (root), of its group.
func ownTemp(st *syscall.Stat_t) bool {
	euid, egid := effectiveIDs()
	return st.Uid == euid && (euid == 0 || st.Gid == egid)
}
