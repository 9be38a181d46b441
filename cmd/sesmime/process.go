package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/internal/atomicfile"
	"github.com/sesmime/sesmime/internal/kcopy"
	"github.com/sesmime/sesmime/parse"
)

// tempPrefix starts the name of every temporary file sesmime writes.
const tempPrefix = atomicfile.TempPrefix

// testBarrier, when set by a test, replaces the file-system barrier.
var testBarrier func(dir *os.File) error

// An outcome is what became of one job.
type outcome struct {
	job
	res      inject.Result
	err      error
	file     *atomicfile.File // written and queued, waiting for its batch (processor.settle)
	decided                   // by --rules
	findings []parse.Finding  // check's
}

// A processor rewrites one input as the run's mode says.
type processor struct {
	ctx    context.Context // a signal stops each copy between chunks
	c      *config
	rw     rewriter
	stdin  io.Reader
	stdout io.Writer
	root   *os.Root // -o
	dirs   sync.Map // directories made under root
	commit atomicfile.Committer
	full   sync.RWMutex // held shared while writing, alone to retry on a full disk
}

func (p *processor) process(j job) outcome {
	o := outcome{job: j, decided: decided{explain: p.c.dryRun}}
	if j.err != nil || j.note != "" {
		o.err = j.err
		return o
	}
	if p.c.verb == "check" {
		o.findings, o.err = p.lint(j)
		return o
	}
	rw := p.rw.with(&o.decided)
	switch {
	case p.c.dryRun:
		o.res, o.err = p.check(rw, j)
	case p.c.inPlace:
		o.res, o.file, o.err = p.inPlace(rw, j)
		if o.err == nil && !o.res.Changed {
			o.res.Written = 0 // the file was left alone
		}
	case p.c.outDir != "":
		o.res, o.file, o.err = p.toDir(rw, j)
	default:
		o.res, o.err = p.toStdout(rw, j.path)
	}
	if ke, ok := o.err.(*kcopy.Error); ok {
		o.err = ke.Err // of the file, in or out, that failed (*fs.PathError)
	}
	return o
}

// settle commits the files of a batch of outcomes: one barrier for each
// file system, then the renames; a file that fails gets its error.
func (p *processor) settle(batch []outcome) {
	var files []*atomicfile.File
	var idx []int
	for i, o := range batch {
		if o.file != nil {
			files, idx = append(files, o.file), append(idx, i)
		}
	}
	for k, err := range p.commit.Commit(files) {
		o := &batch[idx[k]]
		o.file, o.err = nil, err
	}
}

// toStdout rewrites the input path (or stdin) to stdout. A named input
// may be a pipe or a device: the user asked for it, and output goes to
// stdout.
func (p *processor) toStdout(rw rewriter, path string) (inject.Result, error) {
	r := p.stdin
	if path != "-" {
		f, _, err := openInput(path, false, false)
		if err != nil {
			return inject.Result{}, err
		}
		defer f.Close()
		r = f
	}
	return rw.Rewrite(p.stdout, p.bodyReader(r))
}

// bodyReader returns r, or for an *os.File a kcopy.Reader, whose WriteTo
// lets the kernel copy the body: Rewrite's io.Copy reaches it (through its
// bufio.Reader) once the header is written. The copy stops once p.ctx is
// done.
func (p *processor) bodyReader(r io.Reader) io.Reader {
	if f, ok := r.(*os.File); ok {
		return kcopy.NewReaderContext(p.ctx, f)
	}
	return r
}

// check reports what rewriting the input (or stdin) would change, reading
// only its header block. Like -i and -o it takes regular files only.
func (p *processor) check(rw rewriter, j job) (inject.Result, error) {
	if j.path == "-" {
		return rw.Check(p.stdin)
	}
	f, fi, err := openInput(j.path, true, j.regular)
	if err != nil {
		return inject.Result{}, err
	}
	defer f.Close()
	res, err := rw.Check(p.bodyReader(f))
	if err == nil {
		res.Written = fi.Size() + res.Growth // what a rewrite would write
	}
	return res, err
}

// openInput opens path for reading. It refuses a directory and, when
// regular is set, anything but a regular file, before opening it: a named
// pipe without a writer, or a device, can neither block nor feed the run.
// walked says a directory listing already found path to be a regular file;
// openRegular checks the open file in any case.
func openInput(path string, regular, walked bool) (*os.File, fs.FileInfo, error) {
	if !walked {
		fi, err := os.Stat(path)
		switch {
		case err != nil:
			return nil, nil, err
		case fi.IsDir():
			return nil, nil, errIsDir
		case !regular:
			f, err := os.Open(path)
			return f, fi, err
		case !fi.Mode().IsRegular():
			return nil, nil, notRegular(fi.Mode())
		}
	}
	return openRegular(path)
}

// openRegular opens path for reading (with openFlags) and checks that it
// is a regular file.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = notRegular(fi.Mode())
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// openMeta opens path as openInput does a regular file and reads its
// metadata, for a replacement to keep.
func openMeta(path string, walked bool) (*os.File, fs.FileInfo, *atomicfile.Metadata, error) {
	in, fi, err := openInput(path, true, walked)
	if err != nil {
		return nil, nil, nil, err
	}
	meta, err := atomicfile.ReadMetadata(in, fi)
	if err != nil {
		in.Close()
		return nil, nil, nil, err
	}
	return in, fi, meta, nil
}

func notRegular(m fs.FileMode) error {
	return fmt.Errorf("not a regular file (%s)", typeName(m.Type()))
}

// smallFile is the size up to which an input is read whole and rewritten
// in memory, in one read and one write; of a larger one this much is read
// for the header, and the rest streamed, the body copied in the kernel.
const smallFile = 64 << 10

// bufPool holds the read buffers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, smallFile); return &b }}

// inPlace rewrites the input to a new file in its directory that replaces
// it once durable (see atomicfile), with its owner, mode and extended
// attributes. Nothing is written when the message would not change. On any
// error the original is untouched. A symbolic link named by the user stays
// a link: its target is rewritten. The returned file waits, queued, for its
// batch.
func (p *processor) inPlace(rw rewriter, j job) (res inject.Result, af *atomicfile.File, err error) {
	real := j.path
	if !j.regular {
		if real, err = filepath.EvalSymlinks(j.path); err != nil {
			return res, nil, err
		}
	}
	in, fi, meta, err := openMeta(real, j.regular)
	if err != nil {
		return res, nil, err
	}
	defer in.Close()
	return p.rewrite(rw, in, fi, real, meta)
}

// rewrite rewrites the open input in to a new file for target (see
// replace), reading it once through its one descriptor: a file of up to
// smallFile bytes whole, to rewrite in memory, a larger one streamed after
// its first smallFile bytes. Except with -o, which writes every file, a
// message that would not change is left alone, without copying its body
// when its header ends within what was read.
func (p *processor) rewrite(rw rewriter, in *os.File, fi fs.FileInfo, target string, meta *atomicfile.Metadata) (inject.Result, *atomicfile.File, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	n, err := readSmall(in, *bp, fi.Size())
	head := (*bp)[:n]
	switch {
	case err == io.EOF:
		out, res, err := rw.Bytes(head)
		if err != nil || !res.Changed && p.root == nil {
			return res, nil, err
		}
		return p.replace(target, meta, func(f *os.File) (inject.Result, error) {
			_, err := f.Write(out)
			return res, err
		})
	case err != nil:
		return inject.Result{}, nil, err
	}
	if p.root == nil {
		pr := &prefixReader{b: head}
		if res, err := rw.Check(pr); !pr.past && (err != nil || !res.Changed) {
			return res, nil, err
		}
	}
	return p.replace(target, meta, func(f *os.File) (inject.Result, error) {
		if _, err := in.Seek(int64(n), io.SeekStart); err != nil {
			return inject.Result{}, err
		}
		return rw.Rewrite(f, io.MultiReader(bytes.NewReader(head), p.bodyReader(in)))
	})
}

// replace writes a new file for target (with -o, inside p.root) with
// fill, gives it meta and queues it. A message fill finds unchanged is
// queued only with -o, which writes every file. When the disk is full, the worker
// waits until no other worker is writing (their copies may be holding the
// space), commits every queued file (freeing the originals' space) and
// tries once more alone: a file fails for want of space only when its own
// copy does not fit. fill must write the whole message each time it is
// called.
func (p *processor) replace(target string, meta *atomicfile.Metadata, fill func(*os.File) (inject.Result, error)) (inject.Result, *atomicfile.File, error) {
	p.full.RLock()
	res, f, err := p.try(target, meta, fill)
	p.full.RUnlock()
	if !errors.Is(err, syscall.ENOSPC) {
		return res, f, err
	}
	p.full.Lock()
	defer p.full.Unlock()
	p.commit.Flush()
	return p.try(target, meta, fill)
}

// try is one attempt of replace.
func (p *processor) try(target string, meta *atomicfile.Metadata, fill func(*os.File) (inject.Result, error)) (inject.Result, *atomicfile.File, error) {
	create := p.commit.Create
	if p.root != nil {
		create = func(name string) (*atomicfile.File, error) { return p.commit.CreateIn(p.root, name) }
	}
	f, err := create(target)
	if err != nil {
		return inject.Result{}, nil, err
	}
	res, err := fill(f.File)
	if err != nil || !res.Changed && p.root == nil {
		f.Abort()
		return res, nil, err
	}
	f.SetMetadata(meta)
	f.Queue()
	return res, f, nil
}

// A prefixReader reads b, then reports io.EOF and sets past when asked
// for more.
type prefixReader struct {
	b    []byte
	past bool
}

func (r *prefixReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		r.past = true
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// readSmall reads f, whose size was size, into buf. It returns io.EOF
// when all of f fits. One read does when it returns size bytes, less than
// asked for: a read of a regular file stops short only at its end.
func readSmall(f io.Reader, buf []byte, size int64) (int, error) {
	n := 0
	if size >= 0 && size < int64(len(buf)) {
		var err error
		if n, err = f.Read(buf[:size+1]); err == nil && int64(n) == size {
			err = io.EOF
		}
		if err != nil {
			return n, err
		}
	}
	m, err := io.ReadFull(f, buf[n:])
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n + m, err
}

// toDir rewrites the input to its path under the output directory,
// through an os.Root, so neither ".." nor a symbolic link can lead the
// writes outside it. The output is read and written as -i does, so an
// interrupted run leaves no partial file. It keeps the input's mode, ACL and user.*
// attributes, and its owner when the process may give it (as root).
func (p *processor) toDir(rw rewriter, j job) (res inject.Result, af *atomicfile.File, err error) {
	in, fi, meta, err := openMeta(j.path, j.regular)
	if err != nil {
		return res, nil, err
	}
	defer in.Close()
	if os.Geteuid() != 0 {
		meta.UID, meta.GID = -1, -1
		meta.Mode &^= fs.ModeSetuid | fs.ModeSetgid // as cp does for a new owner
	}
	keep := meta.Xattrs[:0]
	for _, x := range meta.Xattrs {
		if x.Name == "system.posix_acl_access" || strings.HasPrefix(x.Name, "user.") {
			keep = append(keep, x)
		}
	}
	meta.Xattrs = keep
	dir := filepath.Dir(j.out)
	if dir != "." {
		if _, made := p.dirs.Load(dir); !made {
			if err := p.root.MkdirAll(dir, 0o777); err != nil {
				return res, nil, err
			}
			p.dirs.Store(dir, true)
		}
	}
	if ofi, err := p.root.Stat(j.out); err == nil && os.SameFile(ofi, fi) {
		return res, nil, errors.New("output would overwrite the input (use -i to rewrite in place)")
	}
	return p.rewrite(rw, in, fi, j.out, meta)
}
