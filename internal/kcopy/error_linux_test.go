package kcopy

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestWriteToError: a copy that fails says at which end, through the
// kernel (splice, through its own pipe between files or straight to or
// from a pipe) and through user space: an *Error with Op "read" when the
// source cannot be read, "write" when the destination cannot be written,
// whose *fs.PathError names that end's file and the call, and holds the
// errno. A copy stopped by its context returns the cause alone. Writing
// onto a full file system needs root (a tmpfs).
func TestWriteToError(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 1<<20)
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	for _, name := range []string{src, dst} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	open := func(t *testing.T, name string, flag int) *os.File {
		f, err := os.OpenFile(name, flag, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	// pipe returns a pipe, its ends closed at the end of the test. It
	// blocks, as a shell's does (os.Pipe's does not), so that no splice
	// gives way to a copy through user space for want of data.
	pipe := func(t *testing.T) (r, w *os.File) {
		var p [2]int
		if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		r, w = os.NewFile(uintptr(p[0]), "pipe-r"), os.NewFile(uintptr(p[1]), "pipe-w")
		t.Cleanup(func() { r.Close(); w.Close() })
		return r, w
	}
	// fed returns the read end of a pipe that holds data, then ends.
	fed := func(t *testing.T) *os.File {
		r, w := pipe(t)
		go func() { w.Write(data); w.Close() }() // fails once the test closes r
		return r
	}
	// full returns a file on a 256 KiB tmpfs, for a copy of 1 MiB.
	full := func(t *testing.T) *os.File {
		if os.Geteuid() != 0 {
			t.Skip("mounting a tmpfs needs root")
		}
		mnt := t.TempDir()
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt).CombinedOutput(); err != nil {
			t.Skipf("mount tmpfs: %v: %s", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", mnt).Run() })
		return open(t, filepath.Join(mnt, "dst"), os.O_WRONLY|os.O_CREATE)
	}
	errWriter := errors.New("the writer failed")
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) (dst io.Writer, src *os.File)
		op    string // of the *Error
		errno error
		call  string // of the *fs.PathError: "splice" in the kernel, "" for none
	}{
		{"file to a read-only file", func(t *testing.T) (io.Writer, *os.File) {
			return open(t, dst, os.O_RDONLY), open(t, src, os.O_RDONLY)
		}, "write", syscall.EBADF, "splice"},
		{"write-only file to a file", func(t *testing.T) (io.Writer, *os.File) {
			return open(t, dst, os.O_WRONLY), open(t, src, os.O_WRONLY)
		}, "read", syscall.EBADF, "splice"},
		{"file to a full file system", func(t *testing.T) (io.Writer, *os.File) {
			return full(t), open(t, src, os.O_RDONLY)
		}, "write", syscall.ENOSPC, "splice"},
		{"file to a pipe without a reader", func(t *testing.T) (io.Writer, *os.File) {
			r, w := pipe(t)
			r.Close()
			return w, open(t, src, os.O_RDONLY)
		}, "write", syscall.EPIPE, "splice"},
		{"write-only file to a pipe", func(t *testing.T) (io.Writer, *os.File) {
			_, w := pipe(t)
			return w, open(t, src, os.O_WRONLY)
		}, "read", syscall.EBADF, "splice"},
		{"file to the read end of a pipe", func(t *testing.T) (io.Writer, *os.File) {
			r, _ := pipe(t)
			return r, open(t, src, os.O_RDONLY)
		}, "write", syscall.EBADF, "splice"},
		{"pipe to a read-only file", func(t *testing.T) (io.Writer, *os.File) {
			return open(t, dst, os.O_RDONLY), fed(t)
		}, "write", syscall.EBADF, "splice"},
		{"the write end of a pipe to a file", func(t *testing.T) (io.Writer, *os.File) {
			_, w := pipe(t)
			return open(t, dst, os.O_WRONLY), w
		}, "read", syscall.EBADF, "splice"},
		{"pipe to a full file system", func(t *testing.T) (io.Writer, *os.File) {
			return full(t), fed(t)
		}, "write", syscall.ENOSPC, "splice"},
		{"directory to a file", func(t *testing.T) (io.Writer, *os.File) {
			return open(t, dst, os.O_WRONLY), open(t, dir, os.O_RDONLY)
		}, "read", syscall.EISDIR, "read"},
		{"directory to a writer", func(t *testing.T) (io.Writer, *os.File) {
			return io.Discard, open(t, dir, os.O_RDONLY)
		}, "read", syscall.EISDIR, "read"},
		{"file to /dev/full", func(t *testing.T) (io.Writer, *os.File) {
			return open(t, "/dev/full", os.O_WRONLY), open(t, src, os.O_RDONLY)
		}, "write", syscall.ENOSPC, "write"},
		{"file to a writer that fails", func(t *testing.T) (io.Writer, *os.File) {
			return failingWriter{errWriter}, open(t, src, os.O_RDONLY)
		}, "write", errWriter, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst, in := tc.setup(t)
			_, err := NewReader(in).WriteTo(dst)
			ke, ok := errors.AsType[*Error](err)
			if !ok || ke.Op != tc.op || !errors.Is(err, tc.errno) || !strings.HasPrefix(err.Error(), tc.op+": ") {
				t.Fatalf("WriteTo: %#v (%v); want an *Error with Op %q and %v", err, err, tc.op, tc.errno)
			}
			end, _ := dst.(*os.File)
			if tc.op == "read" {
				end = in
			}
			pe, _ := ke.Err.(*fs.PathError)
			switch {
			case tc.call == "" && pe != nil:
				t.Errorf("WriteTo: %v; want the Writer's error", err)
			case tc.call != "" && (pe == nil || pe.Op != tc.call || pe.Path != end.Name()):
				t.Errorf("WriteTo: %v; want the *fs.PathError of %s %s", err, tc.call, end.Name())
			}
		})
	}

	// Stopped: the cause, which is about neither end.
	cause := errors.New("stop")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	for _, w := range []io.Writer{open(t, dst, os.O_WRONLY), io.Discard} {
		if _, err := NewReaderContext(ctx, open(t, src, os.O_RDONLY)).WriteTo(w); err != cause {
			t.Errorf("WriteTo %T once stopped: %v; want %v", w, err, cause)
		}
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }
