package main

import (
	"errors"
	"os"
	"syscall"
)

// spliceCopy moves the rest of src to dst with splice(2), in the kernel,
// when one of them is a pipe (file to file is copy_file_range's job, which
// os.File.ReadFrom does). handled is false, with what was moved so far, when
// splice cannot go on: neither is a pipe, dst is in append mode, a
// non-blocking end would block. The caller then copies the rest itself.
func spliceCopy(dst, src *os.File) (n int64, handled bool, err error) {
	if !isPipe(src) && !isPipe(dst) {
		return 0, false, nil
	}
	sc, err := src.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	dc, err := dst.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	var serr error
	cerr := sc.Control(func(sfd uintptr) {
		cerr := dc.Control(func(dfd uintptr) {
			for {
				m, e := syscall.Splice(int(sfd), nil, int(dfd), nil, 1<<20, spliceMove)
				switch {
				case m > 0:
					n += m
				case e == nil: // end of input
					return
				case e != syscall.EINTR:
					serr = e
					return
				}
			}
		})
		if cerr != nil {
			serr = syscall.EINVAL
		}
	})
	switch {
	case cerr != nil || errors.Is(serr, syscall.EINVAL) || errors.Is(serr, syscall.ENOSYS) || errors.Is(serr, syscall.EAGAIN):
		return n, false, nil
	case serr != nil:
		return n, true, os.NewSyscallError("splice", serr)
	}
	return n, true, nil
}

const spliceMove = 0x1 // SPLICE_F_MOVE

func isPipe(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeNamedPipe != 0
}
