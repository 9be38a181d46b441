package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/sesmime/sesmime/inject"
)

// tempPrefix starts the name of every temporary file sesmime writes.
const tempPrefix = ".sesmime-"

// An outcome is what became of one job.
type outcome struct {
	job
	res inject.Result
	err error
}

// A processor rewrites one input as the run's mode says.
type processor struct {
	c      *config
	rw     *inject.Rewriter
	stdin  io.Reader
	stdout io.Writer
	root   *os.Root // -o
	dirs   sync.Map // directories made under root
}

func (p *processor) process(j job) outcome {
	o := outcome{job: j}
	if j.err != nil || j.note != "" {
		o.err = j.err
		return o
	}
	switch {
	case p.c.dryRun:
		o.res, o.err = p.check(j.path)
	case p.c.inPlace:
		o.res, o.err = p.inPlace(j.path)
		if o.err == nil && !o.res.Changed {
			o.res.Written = 0 // the file was left alone
		}
	case p.c.outDir != "":
		o.res, o.err = p.toDir(j.path, j.out)
	default:
		o.res, o.err = p.toWriter(p.stdout, j.path)
	}
	return o
}

// toWriter rewrites the input path (or stdin) to w.
func (p *processor) toWriter(w io.Writer, path string) (inject.Result, error) {
	if path == "-" {
		return p.rw.Rewrite(w, bodyReader(p.stdin))
	}
	f, _, err := openInput(path, false)
	if err != nil {
		return inject.Result{}, err
	}
	defer f.Close()
	return p.rw.Rewrite(w, bodyReader(f))
}

// bodyReader returns r, or for an *os.File a reader whose WriteTo lets the
// kernel copy the body: Rewrite's io.Copy reaches it (through its
// bufio.Reader) once the header is written.
func bodyReader(r io.Reader) io.Reader {
	if f, ok := r.(*os.File); ok {
		return kernelReader{f}
	}
	return r
}

// A kernelReader copies an input file to an output file in the kernel:
// splice(2) when either is a pipe, copy_file_range(2) between files (as
// os.File.ReadFrom does), else an ordinary read and write loop.
type kernelReader struct{ f *os.File }

func (r kernelReader) Read(p []byte) (int, error) { return r.f.Read(p) }

func (r kernelReader) WriteTo(w io.Writer) (int64, error) {
	out, ok := w.(*os.File)
	if !ok {
		return io.Copy(w, struct{ io.Reader }{r.f})
	}
	n, handled, err := spliceCopy(out, r.f)
	if handled {
		return n, err
	}
	m, err := out.ReadFrom(r.f)
	return n + m, err
}

// check reports what rewriting path (or stdin) would change, reading only
// its header block.
func (p *processor) check(path string) (inject.Result, error) {
	if path == "-" {
		return p.rw.Check(p.stdin)
	}
	f, fi, err := openInput(path, false)
	if err != nil {
		return inject.Result{}, err
	}
	defer f.Close()
	res, err := p.rw.Check(f)
	if err == nil && fi.Mode().IsRegular() {
		res.Written = fi.Size() + res.Growth // what a rewrite would write
	}
	return res, err
}

// openInput opens path for reading. It refuses a directory and, when
// regular is set, anything but a regular file. Non-regular files are
// checked before opening, so a named pipe without a writer cannot block.
func openInput(path string, regular bool) (*os.File, fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if fi.IsDir() {
		return nil, nil, errIsDir
	}
	if regular && !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("not a regular file (%s)", typeName(fi.Mode().Type()))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// keepMode is the part of a file mode a rewritten file keeps.
const keepMode = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// inPlace rewrites path atomically: the new message goes to a temporary
// file in the same directory, which is synced, given the original's mode
// (and owner, when allowed) and renamed over the original. Nothing is
// written when the message would not change. On any error the temporary
// file is removed and the original is untouched. A symbolic link stays a
// link: its target is rewritten.
func (p *processor) inPlace(path string) (res inject.Result, err error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return res, err
	}
	in, fi, err := openInput(real, true)
	if err != nil {
		return res, err
	}
	defer in.Close()
	// Read the header alone first: a message that would not change is left
	// alone without copying its body to a temporary file.
	if res, err = p.rw.Check(in); err != nil || !res.Changed {
		return res, err
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return res, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(real), tempPrefix+"*.tmp")
	if err != nil {
		return res, err
	}
	return commit(tmp, in, fi, p.rw, func() error { return os.Rename(tmp.Name(), real) }, func() { os.Remove(tmp.Name()) }, true)
}

// commit rewrites in to tmp and, when the message changed (or always is
// set), syncs tmp and calls rename. Otherwise, or on any error, it closes
// tmp and calls remove.
func commit(tmp, in *os.File, fi fs.FileInfo, rw *inject.Rewriter, rename func() error, remove func(), onlyChanged bool) (res inject.Result, err error) {
	done := false
	defer func() {
		if !done {
			tmp.Close()
			remove()
		}
	}()
	chown(tmp, fi) // before Chmod: a chown clears the set-user-ID bit
	if err := tmp.Chmod(fi.Mode() & keepMode); err != nil {
		return res, err
	}
	// *os.File on both sides: the body goes with copy_file_range where the
	// system has it.
	if res, err = rw.Rewrite(tmp, in); err != nil {
		return res, err
	}
	if onlyChanged && !res.Changed {
		return res, nil
	}
	if err := tmp.Sync(); err != nil {
		return res, err
	}
	if err := tmp.Close(); err != nil {
		remove()
		done = true
		return res, err
	}
	if err := rename(); err != nil {
		remove()
		done = true
		return res, err
	}
	done = true
	return res, nil
}

// toDir rewrites path to out under the output directory. Writes go through
// an os.Root, so neither ".." nor a symbolic link can lead them outside the
// directory. The file is written to a temporary name and renamed, so an
// interrupted run leaves no partial file.
func (p *processor) toDir(path, out string) (res inject.Result, err error) {
	in, fi, err := openInput(path, false)
	if err != nil {
		return res, err
	}
	defer in.Close()
	dir := filepath.Dir(out)
	if dir != "." {
		if _, made := p.dirs.Load(dir); !made {
			if err := p.root.MkdirAll(dir, 0o777); err != nil {
				return res, err
			}
			p.dirs.Store(dir, true)
		}
	}
	if ofi, err := p.root.Stat(out); err == nil && os.SameFile(ofi, fi) {
		return res, errors.New("output would overwrite the input (use -i to rewrite in place)")
	}
	var (
		tmp  *os.File
		name string
	)
	for range 10000 {
		name = filepath.Join(dir, tempPrefix+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		tmp, err = p.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return res, err
	}
	return commit(tmp, in, fi, p.rw, func() error { return p.root.Rename(name, out) }, func() { p.root.Remove(name) }, false)
}
