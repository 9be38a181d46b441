//go:build !linux

package main

import (
	"io/fs"
	"os"
)

// openRegular opens path, which a directory listing found to be a regular
// file, for reading.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	return openInput(path, true, false)
}

// openTemp creates the file name for writing, failing with an error that
// matches fs.ErrExist when it exists.
func openTemp(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
}
