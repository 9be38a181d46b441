package kcopy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Splice moves the rest of src to dst with splice(2), in the kernel:
// directly when one of them is a pipe, through a pipe of its own when both
// are regular files. Between files copy_file_range (os.File.ReadFrom) would
// do, but on file systems without reflinks it copies through a small pipe
// of the kernel's, and when the header's change in length leaves the body
// at another offset within a page (nearly always), a 1 MiB pipe is ~20%
// faster (bench/README.md). handled is false, with what was moved so far,
// when splice cannot go on: neither end is a pipe nor both are regular
// files, dst is in append mode, a non-blocking end would block. The caller
// then copies the rest itself. Once ctx is done it stops between two
// splices of at most 1 MiB, with handled true and context.Cause(ctx). A
// splice that fails returns an *Error: Op says which end failed, and its
// *fs.PathError (Op "splice") names the file.
func Splice(ctx context.Context, dst, src *os.File) (n int64, handled bool, err error) {
	sm, dm := fileType(src), fileType(dst)
	direct := sm == os.ModeNamedPipe || dm == os.ModeNamedPipe
	if !direct && (sm != 0 || dm != 0) {
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
	var (
		serr error
		op   string // "read" or "write": the end that failed with serr
	)
	cerr := sc.Control(func(sfd uintptr) {
		cerr := dc.Control(func(dfd uintptr) {
			if direct {
				n, op, serr = spliceDirect(ctx, int(dfd), int(sfd), sm == os.ModeNamedPipe)
			} else {
				n, op, serr = splicePiped(ctx, int(dfd), int(sfd))
			}
		})
		if cerr != nil {
			serr = syscall.EINVAL
		}
	})
	switch {
	case cerr != nil || errors.Is(serr, syscall.EINVAL) || errors.Is(serr, syscall.ENOSYS) || errors.Is(serr, syscall.EAGAIN):
		return n, false, nil
	case serr == errStopped:
		return n, true, context.Cause(ctx)
	case serr != nil:
		f := src
		if op == "write" {
			f = dst
		}
		return n, true, &Error{op, &fs.PathError{Op: "splice", Path: f.Name(), Err: serr}}
	}
	return n, true, nil
}

// errStopped is the error of a splice loop that stopped because its
// context is done.
var errStopped = errors.New("stopped")

// spliceDirect splices sfd to dfd until the end of sfd; one is a pipe, sfd
// when srcPipe is set. op is the end that failed.
func spliceDirect(ctx context.Context, dfd, sfd int, srcPipe bool) (n int64, op string, err error) {
	for {
		if ctx.Err() != nil {
			return n, "", errStopped
		}
		m, e := syscall.Splice(sfd, nil, dfd, nil, chunk, unix.SPLICE_F_MOVE)
		switch {
		case m > 0:
			n += m
		case e == nil: // end of input
			return n, "", nil
		case e != syscall.EINTR:
			return n, directOp(e, sfd, srcPipe), e
		}
	}
}

// directOp returns the end, "read" or "write", at which a splice from sfd
// to a pipe, or from the pipe sfd, failed with e. A pipe fails only when
// written with no reader left (EPIPE) or opened the other way (EBADF), so
// any other error is the other end's.
func directOp(e error, sfd int, srcPipe bool) string {
	if e == syscall.EBADF {
		fl, err := unix.FcntlInt(uintptr(sfd), unix.F_GETFL, 0)
		srcPipe = err == nil && fl&unix.O_ACCMODE != unix.O_WRONLY // sfd may be read
	}
	if e == syscall.EPIPE || srcPipe {
		return "write"
	}
	return "read"
}

// splicePiped splices the regular file sfd to the regular file dfd through
// a pipe of 1 MiB (or what the system allows). It fails with EINVAL, having
// moved nothing, when dfd is in append mode or a file cannot be spliced.
// op is the end that failed.
func splicePiped(ctx context.Context, dfd, sfd int) (n int64, op string, err error) {
	if fl, err := unix.FcntlInt(uintptr(dfd), unix.F_GETFL, 0); err != nil || fl&unix.O_APPEND != 0 {
		return 0, "", syscall.EINVAL
	}
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return 0, "", syscall.EINVAL
	}
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])
	unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, 1<<20) // a smaller pipe only costs more round trips
	for {
		if ctx.Err() != nil {
			return n, "", errStopped // the pipe is empty
		}
		m, e := syscall.Splice(sfd, nil, p[1], nil, chunk, unix.SPLICE_F_MOVE|unix.SPLICE_F_MORE)
		switch {
		case e == syscall.EINTR:
			continue
		case e != nil:
			return n, "read", e // nothing is left in the pipe
		case m == 0:
			return n, "", nil
		}
		for m > 0 {
			k, e := syscall.Splice(p[0], nil, dfd, nil, int(m), unix.SPLICE_F_MOVE)
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EINVAL || e == syscall.EAGAIN || e == syscall.ENOSYS:
				// %v, not %w: Splice must not read EINVAL as "fall back",
				// which would lose the bytes in the pipe.
				return n, "write", fmt.Errorf("bytes left in a pipe: %v", e)
			case e != nil:
				return n, "write", e
			}
			n += k
			m -= k
		}
	}
}

// modeUnknown is fileType's answer when fstat fails.
const modeUnknown = os.ModeIrregular

// fileType returns the type bits of f's mode: 0 for a regular file.
func fileType(f *os.File) os.FileMode {
	fi, err := f.Stat()
	if err != nil {
		return modeUnknown
	}
	return fi.Mode().Type()
}
