package main

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sesmime/sesmime/inject"
)

// inPlaceSmall is inPlace for a file found by walking a directory, when it
// fits in smallFile: it is read in one read and its rewrite written in one
// write, through bare descriptors, skipping the owner, mode and size
// changes a reused temporary file already has right. Per message that is
// about half the system calls of the general path, which on a tree of
// small messages is most of the time. done is false, with nothing done,
// when the file is larger: inPlace then streams it.
func (p *processor) inPlaceSmall(real string) (res inject.Result, pend *pending, done bool, err error) {
	fd, fi, err := openRegularFD(real)
	if err != nil {
		return res, nil, true, err
	}
	if fi.st.Size >= smallFile {
		syscall.Close(fd)
		return res, nil, false, nil
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	n, err := readSmall(fdReader(fd), *bp, fi.st.Size)
	syscall.Close(fd)
	switch {
	case err == nil:
		return res, nil, false, nil // it grew past the buffer
	case err != io.EOF:
		return res, nil, true, &fs.PathError{Op: "read", Path: real, Err: err}
	}
	out, res, err := p.rw.Bytes((*bp)[:n])
	if err != nil || !res.Changed {
		return res, nil, true, err
	}
	res.Written = int64(len(out))
	dir := filepath.Dir(real)
	tfd, name, st, reused, err := p.tempFD(dir)
	if err != nil {
		return res, nil, true, err
	}
	if err := fillTemp(tfd, name, out, &st, reused, fi); err != nil {
		syscall.Close(tfd)
		os.Remove(name)
		return res, nil, true, err
	}
	if err := syscall.Close(tfd); err != nil {
		os.Remove(name)
		return res, nil, true, &fs.PathError{Op: "close", Path: name, Err: err}
	}
	return res, inPlacePending(dir, name, real, fi), true, nil
}

// fillTemp gives the temporary file fd (name; status st, reused or new)
// the owner and mode of the original fi and writes data to it, cutting off
// what a reused file held past it.
func fillTemp(fd int, name string, data []byte, st *syscall.Stat_t, reused bool, fi *statInfo) error {
	chowned := false
	if !reused || st.Uid != fi.st.Uid || st.Gid != fi.st.Gid {
		_ = syscall.Fchown(fd, int(fi.st.Uid), int(fi.st.Gid)) // as chown: a failure leaves a correct file
		chowned = true
	}
	// After a chown, which clears the set-user-ID bit, the mode is set again.
	if mode := fi.st.Mode & 0o7777; chowned || st.Mode&0o7777 != mode {
		if err := syscall.Fchmod(fd, mode); err != nil {
			return &fs.PathError{Op: "chmod", Path: name, Err: err}
		}
	}
	for rest := data; len(rest) > 0; {
		n, err := syscall.Write(fd, rest)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "write", Path: name, Err: err}
		}
		rest = rest[n:]
	}
	if reused && st.Size > int64(len(data)) {
		if err := syscall.Ftruncate(fd, int64(len(data))); err != nil {
			return &fs.PathError{Op: "truncate", Path: name, Err: err}
		}
	}
	return nil
}

// temp returns a temporary file in dir to write a message to: a pooled one
// when there is one fit for reuse (reused is then true, and the file may
// hold old bytes past what is written), else a new one.
func (p *processor) temp(dir string) (f *os.File, name string, reused bool, err error) {
	fd, name, _, reused, err := p.tempFD(dir)
	if err != nil {
		return nil, "", false, err
	}
	if reused {
		// Opened non-blocking; set back so that os.NewFile does not try the
		// poller.
		if err := syscall.SetNonblock(fd, false); err != nil {
			syscall.Close(fd)
			os.Remove(name)
			return nil, "", false, &fs.PathError{Op: "fcntl", Path: name, Err: err}
		}
	}
	return os.NewFile(uintptr(fd), name), name, reused, nil
}

// tempFD returns a temporary file in dir as a bare descriptor: a pooled
// one fit for reuse (reused, with its status st) or a new one. A pooled
// file of dir comes first; then one of another directory, moved into dir:
// when a run goes on to the next directory, the files it pooled in the last
// one move with it instead of being deleted there and created anew (on ext4
// without a journal, every inode freed in the last 30 s is then skipped by
// each inode allocation, so that churn costs more the longer the run).
// Either is reused only when it is like a file created new in dir.
func (p *processor) tempFD(dir string) (fd int, name string, st syscall.Stat_t, reused bool, err error) {
	if nf, ok := p.newFiles.newFileIn(dir); ok {
		for {
			name, ok := p.pool.get(dir)
			if !ok {
				break
			}
			if fd, st, err := reopenTempFD(name, nf); err == nil {
				return fd, name, st, true, nil
			}
			os.Remove(name) // not fit for reuse
		}
		for {
			old, ok := p.pool.takeOther(dir)
			if !ok {
				break
			}
			if fd, name, st, err := adoptTempFD(old, dir, nf); err == nil {
				return fd, name, st, true, nil
			}
		}
	}
	fd, base, err := createTemp(func(base string) (int, error) {
		return retryEINTR(func() (int, error) {
			return syscall.Open(filepath.Join(dir, base), syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o600)
		})
	})
	name = filepath.Join(dir, base)
	if err != nil {
		return -1, "", st, false, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return fd, name, st, false, nil
}

// adoptTempFD moves the pooled temporary file old of another directory
// into dir, for reuse there, and returns it open as reopenTempFD does. The
// file is made readable by its owner only first (the process's user, or
// root): until the new message overwrites it, it holds an old message of
// the other directory, which may be private where dir is not. On any
// failure (the file is not fit, dir is on another file system or under
// another project quota) the file is removed, as no longer needed.
func adoptTempFD(old, dir string, nf newFile) (fd int, name string, st syscall.Stat_t, err error) {
	fd, st, err = reopenTempFD(old, nf)
	if err == nil && st.Mode&0o7777 != 0o600 {
		err = syscall.Fchmod(fd, 0o600)
		st.Mode = st.Mode&^0o7777 | 0o600
	}
	if err == nil {
		name = filepath.Join(dir, tempName())
		err = unix.Renameat2(unix.AT_FDCWD, old, unix.AT_FDCWD, name, unix.RENAME_NOREPLACE)
	}
	if err != nil {
		if fd >= 0 {
			syscall.Close(fd)
		}
		os.Remove(old)
		return -1, "", st, err
	}
	return fd, name, st, nil
}

// reopenTempFD opens the pooled temporary file name for overwriting, as a
// bare descriptor with its status. It refuses a file that is not a regular
// file with one link and no extended attributes: another name would see
// the new bytes, or an ACL or security label of the old message would pass
// to the new one. It also refuses one a new file in its directory (nf)
// would not be like: of another owner (ownTemp), of another group in a
// set-group-ID directory, or with other inherited inode flags than the
// directory gives (such as chattr's S or d set on one old message). The
// descriptor is non-blocking, which writes to a regular file ignore: a
// named pipe put there cannot block the run.
func reopenTempFD(name string, nf newFile) (int, syscall.Stat_t, error) {
	var st syscall.Stat_t
	fd, err := retryEINTR(func() (int, error) {
		return syscall.Open(name, syscall.O_WRONLY|syscall.O_CLOEXEC|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	})
	if err != nil {
		return -1, st, err
	}
	err = syscall.Fstat(fd, &st)
	if err == nil && (st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Nlink != 1 || !ownTemp(&st) || !nf.matches(fd, &st)) {
		err = errNotReusable
	}
	if err == nil {
		if n, xerr := unix.Flistxattr(fd, nil); xerr != nil && xerr != unix.ENOTSUP || n > 0 {
			err = errNotReusable
		}
	}
	if err != nil {
		syscall.Close(fd)
		return -1, st, err
	}
	return fd, st, nil
}

// An fdReader reads a bare descriptor.
type fdReader int

func (r fdReader) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(r), p)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}
