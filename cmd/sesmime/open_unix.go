//go:build unix

package main

import (
	"io/fs"
	"os"
	"syscall"
)

// openRegular opens path for reading and checks that it is a regular
// file. It opens it non-blocking, which reads of a regular file ignore, so
// that a named pipe or device put there since a listing or a stat cannot
// block the run.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	return statRegular(f)
}
