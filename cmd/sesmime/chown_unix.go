//go:build unix

package main

import (
	"io/fs"
	"os"
	"syscall"
)

// chown gives f the owner and group of fi when the system allows it; a
// failure is ignored, as the file is still correct.
func chown(f *os.File, fi fs.FileInfo) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	_ = f.Chown(int(st.Uid), int(st.Gid))
}
