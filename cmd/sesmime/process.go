package main

import (
	"bytes"
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
	"github.com/sesmime/sesmime/internal/kcopy"
)

// tempPrefix starts the name of every temporary file sesmime writes.
const tempPrefix = ".sesmime-"

// An outcome is what became of one job.
type outcome struct {
	job
	res  inject.Result
	err  error
	pend *pending // written, waiting for its batch's sync (processor.settle)
}

// A processor rewrites one input as the run's mode says.
type processor struct {
	c      *config
	rw     *inject.Rewriter
	stdin  io.Reader
	stdout io.Writer
	root   *os.Root // -o
	dirs   sync.Map // directories made under root
	// renamed maps each file system a pending file was renamed on to a
	// function that syncs it, for the run's final sync.
	renamed   sync.Map
	pool      tempPool // -i: temporary files for reuse
	newFiles  dirCache // -i: what a new file gets from its directory
	exchanged waitList // -i: originals swapped out, waiting for a sync
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
		o.res, o.pend, o.err = p.inPlace(j)
		if o.err == nil && !o.res.Changed {
			o.res.Written = 0 // the file was left alone
		}
	case p.c.outDir != "":
		o.res, o.pend, o.err = p.toDir(j.path, j.out)
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
	f, _, err := openInput(path, false, false)
	if err != nil {
		return inject.Result{}, err
	}
	defer f.Close()
	return p.rw.Rewrite(w, bodyReader(f))
}

// bodyReader returns r, or for an *os.File a kcopy.Reader, whose WriteTo
// lets the kernel copy the body: Rewrite's io.Copy reaches it (through its
// bufio.Reader) once the header is written.
func bodyReader(r io.Reader) io.Reader {
	if f, ok := r.(*os.File); ok {
		return kcopy.NewReader(f)
	}
	return r
}

// check reports what rewriting path (or stdin) would change, reading only
// its header block.
func (p *processor) check(path string) (inject.Result, error) {
	if path == "-" {
		return p.rw.Check(p.stdin)
	}
	f, fi, err := openInput(path, false, false)
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
// checked before opening, so a named pipe without a writer cannot block;
// walked says a directory listing already found path to be a regular file,
// which openRegular then checks on the open file instead.
func openInput(path string, regular, walked bool) (*os.File, fs.FileInfo, error) {
	if walked {
		return openRegular(path)
	}
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

// smallFile is the size up to which an input is read whole and rewritten
// in memory, in one read and one write; larger ones are streamed, the body
// copied in the kernel.
const smallFile = 64 << 10

// bufPool holds the read buffers of small files.
var bufPool = sync.Pool{New: func() any { b := make([]byte, smallFile); return &b }}

// inPlace rewrites path atomically: the new message goes to a temporary
// file in the same directory, which is given the original's mode (and
// owner, when allowed), made durable and renamed over the original.
// Nothing is written when the message would not change. On any error the
// temporary file is removed and the original is untouched. A symbolic link
// named by the user stays a link: its target is rewritten.
//
// Where the system can sync a whole file system (Linux), the temporary file
// is returned pending: the run's worker syncs a batch of them at once and
// only then renames each (processor.settle). Elsewhere each is synced and
// renamed here.
func (p *processor) inPlace(j job) (res inject.Result, pend *pending, err error) {
	real := j.path
	if !j.regular {
		if real, err = filepath.EvalSymlinks(j.path); err != nil {
			return res, nil, err
		}
	} else if res, pend, done, err := p.inPlaceSmall(real); done {
		return res, pend, err
	}
	in, fi, err := openInput(real, true, j.regular)
	if err != nil {
		return res, nil, err
	}
	defer in.Close()
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	n, err := readSmall(in, *bp, fi.Size())
	var (
		src   io.Reader
		whole []byte // the rewritten message, when it was read whole
	)
	switch {
	case err == io.EOF:
		// Read whole: rewrite in memory.
		if whole, res, err = p.rw.Bytes((*bp)[:n]); err != nil || !res.Changed {
			return res, nil, err
		}
	case err != nil:
		return res, nil, err
	default:
		// Read the header alone first: a message that would not change is
		// left alone without copying its body to a temporary file.
		if res, err = p.rw.Check(io.MultiReader(bytes.NewReader((*bp)[:n]), in)); err != nil || !res.Changed {
			return res, nil, err
		}
		if _, err := in.Seek(0, io.SeekStart); err != nil {
			return res, nil, err
		}
		src = bodyReader(in)
	}
	dir := filepath.Dir(real)
	tmp, name, reused, err := p.temp(dir)
	if err != nil {
		return res, nil, err
	}
	w := &commitment{pending: inPlacePending(dir, name, real, fi), file: tmp, reused: reused, fi: fi}
	if whole != nil {
		return w.write(func(f *os.File) (inject.Result, error) {
			_, err := f.Write(whole)
			res.Written = int64(len(whole))
			return res, err
		})
	}
	return w.write(func(f *os.File) (inject.Result, error) { return p.rw.Rewrite(f, src) })
}

// readSmall reads f, whose size was size, into buf. It returns io.EOF
// when all of f fits. One read does when it returns size bytes, less than
// asked for: a read of a regular file stops short only at its end.
func readSmall(f io.Reader, buf []byte, size int64) (int, error) {
	if size >= 0 && size < int64(len(buf)) {
		n, err := f.Read(buf[:size+1])
		if err == nil && int64(n) == size {
			return n, io.EOF
		}
		if err != nil {
			return n, err
		}
		m, err := io.ReadFull(f, buf[n:])
		n += m
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		return n, err
	}
	n, err := io.ReadFull(f, buf)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}

// tempName returns a fresh name for a temporary file.
func tempName() string {
	return tempPrefix + strconv.FormatUint(rand.Uint64(), 36) + ".tmp"
}

// createTemp creates a temporary file with a fresh name, through open,
// which is given the name and must fail with fs.ErrExist when it is taken.
// F is what open returns: an *os.File, or a bare descriptor.
func createTemp[F any](open func(name string) (F, error)) (F, string, error) {
	for range 10000 {
		name := tempName()
		f, err := open(name)
		if !errors.Is(err, fs.ErrExist) {
			return f, name, err
		}
	}
	var none F
	return none, "", errors.New("cannot find a free temporary file name")
}

// A commitment is a temporary file on its way to replace (or become) an
// output file: the file being written, and the pending file it becomes.
type commitment struct {
	*pending             // how the file is named, removed and synced once written
	file     *os.File    // the temporary file
	reused   bool        // file is a pooled file: it may hold old bytes past the new end
	fi       fs.FileInfo // the input, whose mode and owner the output keeps
}

// write fills c.file with fill and, when that succeeds, makes the file
// durable and renames it: here with fsync, or, when the system can sync a
// whole file system, later, a batch at a time, from the returned pending.
// On any error the temporary file is removed.
func (c *commitment) write(fill func(*os.File) (inject.Result, error)) (res inject.Result, pend *pending, err error) {
	done := false
	defer func() {
		if !done {
			c.file.Close()
			c.remove()
		}
	}()
	chown(c.file, c.fi) // before Chmod: a chown clears the set-user-ID bit
	if err := c.file.Chmod(c.fi.Mode() & keepMode); err != nil {
		return res, nil, err
	}
	if res, err = fill(c.file); err != nil {
		return res, nil, err
	}
	if c.reused {
		if err := c.file.Truncate(res.Written); err != nil {
			return res, nil, err
		}
	}
	if !syncFSWorks {
		if err := c.file.Sync(); err != nil {
			return res, nil, err
		}
	}
	done = true
	if err := c.file.Close(); err != nil {
		c.remove()
		return res, nil, err
	}
	if syncFSWorks {
		return res, c.pending, nil
	}
	return res, nil, c.pending.finish(nil)
}

// inPlacePending returns the pending file of the temporary file name in
// dir, which is to replace real (whose status is fi) in place.
func inPlacePending(dir, name, real string, fi fs.FileInfo) *pending {
	return &pending{
		rename:   func() error { return os.Rename(name, real) },
		exchange: func() error { return exchange(name, real) },
		remove:   func() { os.Remove(name) },
		sync:     func() error { return syncDir(func() (*os.File, error) { return os.Open(dir) }) },
		dev:      devOf(fi), // the file system of real's directory, where name is
		tmp:      name,
		dir:      dir,
	}
}

// A pending file is a rewritten message written under its temporary name,
// waiting for the sync that makes it durable before it takes its final
// name.
type pending struct {
	rename   func() error
	exchange func() error // nil, or swaps the file with its original
	remove   func()
	sync     func() error
	dev      uint64 // the file system, so that a batch syncs each once
	tmp, dir string // where the file is, for reuse after an exchange
	swapped  bool   // the exchange was done: tmp holds the original
}

// finish gives the file its final name, or removes it when syncErr (the
// result of syncing its file system) or the rename failed. It exchanges the
// file with its original where it can (setting swapped), else renames it.
func (pd *pending) finish(syncErr error) error {
	if syncErr != nil {
		pd.remove()
		return fmt.Errorf("sync: %w", syncErr)
	}
	if pd.exchange != nil && pd.exchange() == nil {
		pd.swapped = true
		return nil
	}
	if err := pd.rename(); err != nil {
		pd.remove()
		return err
	}
	return nil
}

// settle completes a batch of outcomes: it syncs each file system that
// holds a pending file once, then renames (or exchanges) the pending files,
// and records the file systems for the run's final sync (processor.finish),
// which makes the renames durable too. The originals that exchanges left
// under temporary names wait in p.exchanged for the next sync of their file
// system, a later batch's or the final one, to make the exchanges durable:
// before that, a crash could bring an original's name back to an inode
// being overwritten. Then they are pooled for reuse. Waiting for the next
// batch's sync, rather than syncing a second time, halves the syncs.
func (p *processor) settle(batch []outcome) {
	// Exchanges made before the sync starts are durable when it returns.
	earlier := p.exchanged.take()
	synced := syncEach(batch)
	for _, pd := range earlier {
		switch err, ok := synced[pd.dev]; {
		case !ok:
			p.exchanged.add(pd) // its file system was not synced this time
		case err != nil || !p.pool.put(pd.dir, pd.tmp):
			os.Remove(pd.tmp)
		}
	}
	for i := range batch {
		o := &batch[i]
		pd := o.pend
		o.pend = nil
		if pd == nil {
			continue
		}
		if err := pd.finish(synced[pd.dev]); err != nil {
			o.err = err
			continue
		}
		p.renamed.Store(pd.dev, pd.sync)
		if pd.swapped {
			p.exchanged.add(pd)
		}
	}
}

// A waitList holds the pending files whose exchange is not yet known to be
// durable.
type waitList struct {
	mu  sync.Mutex
	pds []*pending
}

func (w *waitList) add(pd *pending) {
	w.mu.Lock()
	w.pds = append(w.pds, pd)
	w.mu.Unlock()
}

// take empties the list and returns what it held.
func (w *waitList) take() []*pending {
	w.mu.Lock()
	defer w.mu.Unlock()
	pds := w.pds
	w.pds = nil
	return pds
}

// syncEach syncs, once each, the file systems of the pending files of
// batch, and returns the result for each.
func syncEach(batch []outcome) map[uint64]error {
	synced := make(map[uint64]error)
	for _, o := range batch {
		if pd := o.pend; pd != nil {
			if _, ok := synced[pd.dev]; !ok {
				synced[pd.dev] = pd.sync()
			}
		}
	}
	return synced
}

// finish removes the pooled temporary files and syncs, once more, each file
// system a pending file was renamed on, so that the renames are durable
// when the run ends; then it removes the originals still waiting for that.
func (p *processor) finish() error {
	errs := []error{p.pool.drain()}
	p.renamed.Range(func(_, sync any) bool {
		if err := sync.(func() error)(); err != nil {
			errs = append(errs, err)
		}
		return true
	})
	// Those syncs made the last exchanges durable.
	for _, pd := range p.exchanged.take() {
		os.Remove(pd.tmp)
	}
	return errors.Join(errs...)
}

// toDir rewrites path to out under the output directory. Writes go through
// an os.Root, so neither ".." nor a symbolic link can lead them outside the
// directory. The file is written to a temporary name, made durable and
// renamed, so an interrupted run leaves no partial file.
func (p *processor) toDir(path, out string) (res inject.Result, pend *pending, err error) {
	in, fi, err := openInput(path, false, false)
	if err != nil {
		return res, nil, err
	}
	defer in.Close()
	dir := filepath.Dir(out)
	if dir != "." {
		if _, made := p.dirs.Load(dir); !made {
			if err := p.root.MkdirAll(dir, 0o777); err != nil {
				return res, nil, err
			}
			p.dirs.Store(dir, true)
		}
	}
	if ofi, err := p.root.Stat(out); err == nil && os.SameFile(ofi, fi) {
		return res, nil, errors.New("output would overwrite the input (use -i to rewrite in place)")
	}
	tmp, name, err := createTemp(func(name string) (*os.File, error) {
		return p.root.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	})
	if err != nil {
		return res, nil, err
	}
	name = filepath.Join(dir, name)
	// A batch syncs each file system once, so the pending file must name
	// the one it is written on: the output's, which under DIR may be
	// another than the input's, and differ from one output to the next.
	tfi, err := tmp.Stat()
	if err != nil {
		tmp.Close()
		p.root.Remove(name)
		return res, nil, err
	}
	c := &commitment{
		pending: &pending{
			rename: func() error { return p.root.Rename(name, out) },
			remove: func() { p.root.Remove(name) },
			sync:   func() error { return syncDir(func() (*os.File, error) { return p.root.Open(dir) }) },
			dev:    devOf(tfi),
		},
		file: tmp,
		fi:   fi,
	}
	return c.write(func(f *os.File) (inject.Result, error) { return p.rw.Rewrite(f, bodyReader(in)) })
}
