//go:build !unix

package main

import (
	"io/fs"
	"os"
)

// openRegular opens path for reading and checks that it is a regular file.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return statRegular(f)
}
