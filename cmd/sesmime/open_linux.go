package main

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// openRegular opens path, which a directory listing found to be a regular
// file, for reading. It checks the open file instead of the path, so it
// takes fewer system calls than os.Stat and os.Open: see openRegularFD.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	fd, fi, err := openRegularFD(path)
	if err != nil {
		return nil, nil, err
	}
	// Left non-blocking, which reads and copies of a regular file ignore:
	// os.NewFile then finds that the poller cannot take it, and reads it
	// blocking, one system call fewer than setting it back.
	return os.NewFile(uintptr(fd), path), fi, nil
}

// openRegularFD opens path for reading as a bare descriptor, non-blocking
// (a named pipe put there since the listing cannot block the run), and
// checks with fstat that it is a regular file.
func openRegularFD(path string) (int, *statInfo, error) {
	fd, err := retryEINTR(func() (int, error) {
		return syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	})
	if err != nil {
		return -1, nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	fi := &statInfo{name: path}
	if err := syscall.Fstat(fd, &fi.st); err != nil {
		syscall.Close(fd)
		return -1, nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if !fi.Mode().IsRegular() {
		syscall.Close(fd)
		return -1, nil, fmt.Errorf("not a regular file (%s)", typeName(fi.Mode().Type()))
	}
	return fd, fi, nil
}

// retryEINTR calls open until it fails with something other than EINTR.
func retryEINTR(open func() (int, error)) (int, error) {
	for {
		fd, err := open()
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

// A statInfo is the fs.FileInfo of an fstat(2) result.
type statInfo struct {
	name string
	st   syscall.Stat_t
}

func (fi *statInfo) Name() string       { return fi.name }
func (fi *statInfo) Size() int64        { return fi.st.Size }
func (fi *statInfo) IsDir() bool        { return fi.Mode().IsDir() }
func (fi *statInfo) Sys() any           { return &fi.st }
func (fi *statInfo) ModTime() time.Time { return time.Unix(fi.st.Mtim.Unix()) }

// Mode converts st_mode as os.Stat does, for the types and bits sesmime
// looks at.
func (fi *statInfo) Mode() fs.FileMode {
	m := fs.FileMode(fi.st.Mode & 0o777)
	switch fi.st.Mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	}
	if fi.st.Mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if fi.st.Mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if fi.st.Mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}
