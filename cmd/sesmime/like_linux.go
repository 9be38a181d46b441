package main

import (
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Inode flags (FS_IOC_GETFLAGS, linux/fs.h) that a new regular file takes
// from its directory. Other flags (extents, immutable, append-only, ...) are
// not inherited, or cannot be set on a file that is being written.
const (
	flSecRm       = 0x00000001
	flUnRm        = 0x00000002
	flCompr       = 0x00000004
	flSync        = 0x00000008
	flNoDump      = 0x00000040
	flNoAtime     = 0x00000080
	flNoComp      = 0x00000400
	flJournalData = 0x00004000
	flNoTail      = 0x00008000
	flNoCOW       = 0x00800000
	flDAX         = 0x02000000

	inheritedFlags = flSecRm | flUnRm | flCompr | flSync | flNoDump | flNoAtime | flNoComp |
		flJournalData | flNoTail | flNoCOW | flDAX
)

// A newFile is what a file created in a directory gets from it, which a
// reused temporary file there must match: its group, when the directory is
// set-group-ID, and its inherited inode flags.
type newFile struct {
	setgid bool
	gid    uint32
	flags  uint32
}

// matches reports whether a temporary file with status st and the
// descriptor fd is like a file created new in the directory.
func (nf newFile) matches(fd int, st *syscall.Stat_t) bool {
	if nf.setgid && st.Gid != nf.gid {
		return false
	}
	return inodeFlags(fd)&inheritedFlags == nf.flags
}

// inodeFlags returns the inode flags of fd, 0 where the file system has
// none.
func inodeFlags(fd int) uint32 {
	f, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		return 0 // ENOTTY, EOPNOTSUPP: no flags here
	}
	return f
}

// newFileIn reports what a file created in dir would get from it, and false
// when a reused file cannot be made like one: the directory has a default
// ACL, which a new file would inherit as an ACL of its own, or its status
// cannot be read.
func newFileIn(dir string) (newFile, bool) {
	fd, err := retryEINTR(func() (int, error) {
		return syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	})
	if err != nil {
		return newFile{}, false
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return newFile{}, false
	}
	switch _, err := unix.Fgetxattr(fd, "system.posix_acl_default", nil); err {
	case unix.ENODATA, unix.EOPNOTSUPP:
	default:
		return newFile{}, false // there is one, or it cannot be known
	}
	return newFile{
		setgid: st.Mode&syscall.S_ISGID != 0,
		gid:    st.Gid,
		flags:  inodeFlags(fd) & inheritedFlags,
	}, true
}

// A dirCache remembers newFileIn for the directories a run is in.
type dirCache struct {
	mu sync.Mutex
	m  map[string]dirEntry
}

type dirEntry struct {
	nf newFile
	ok bool
}

// maxCachedDirs bounds a dirCache: a run goes through a tree a directory at
// a time, so few are in use at once.
const maxCachedDirs = 64

func (dc *dirCache) newFileIn(dir string) (newFile, bool) {
	dc.mu.Lock()
	e, hit := dc.m[dir]
	dc.mu.Unlock()
	if hit {
		return e.nf, e.ok
	}
	e.nf, e.ok = newFileIn(dir)
	dc.mu.Lock()
	if dc.m == nil || len(dc.m) >= maxCachedDirs {
		dc.m = make(map[string]dirEntry)
	}
	dc.m[dir] = e
	dc.mu.Unlock()
	return e.nf, e.ok
}
