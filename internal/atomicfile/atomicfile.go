package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// TempPrefix starts the name of every temporary file; tools that walk a
// tree while files are replaced in it can skip such names.
const TempPrefix = ".sesmime-"

// The bounds of a batch (see Committer.Full). Every file held for a
// batch keeps its descriptor open, hence the bound on files.
const (
	MaxBatch      = 512      // files
	firstBatch    = 64       // files, before the limit grows
	minBatch      = 8        // files, after the limit shrinks
	maxBatchBytes = 64 << 20 // the temporary space a batch holds
	maxBatchAge   = time.Second
)

// A Committer creates new files and commits them over their targets. Its
// zero value is ready to use; it is safe for concurrent use.
type Committer struct {
	// Barrier, when not nil, is called instead of the system's barrier
	// with the directory descriptor a file system's barrier is taken on
	// (on Linux, syncfs on it). Tests inject barrier errors through it.
	Barrier func(dir *os.File) error

	mu    sync.Mutex
	fss   map[uint64]*fsys
	ended atomic.Uint64 // files committed or failed
	limit atomic.Int64  // files in a batch, 0 for firstBatch
}

// Full reports whether a writer holding n queued files of bytes bytes in
// all, the first of them queued age ago, should commit them now: at the
// file limit, at 64 MiB, or after a second. The file limit starts at 64,
// doubles with each barrier that succeeds, up to MaxBatch, and halves
// when a writer runs out of space (Flush), down to 8.
func (c *Committer) Full(n int, bytes int64, age time.Duration) bool {
	limit := c.limit.Load()
	if limit == 0 {
		limit = firstBatch
	}
	return int64(n) >= limit || bytes >= maxBatchBytes || age >= maxBatchAge
}

// resize doubles the file limit (grow) or halves it.
func (c *Committer) resize(grow bool) {
	for {
		old := c.limit.Load()
		cur := old
		if cur == 0 {
			cur = firstBatch
		}
		if grow {
			cur = min(2*cur, MaxBatch)
		} else {
			cur = max(cur/2, minBatch)
		}
		if c.limit.CompareAndSwap(old, cur) {
			return
		}
	}
}

// A fsys is one file system the Committer has created files on.
type fsys struct {
	barrier sync.Mutex // held for a barrier: one at a time
	dir     *os.File   // the descriptor barriers are taken on

	mu        sync.Mutex
	idle      sync.Cond // signalled when busy drops to 0
	busy      int       // batches taken and not yet ended
	queue     []*File
	completed uint64 // barriers done
	failAt    uint64 // the last barrier that failed, 0 for none
	failErr   error
	renamed   bool // a rename has not yet been covered by a barrier
}

// A File is a new file being written under a temporary name. Write to it
// through the embedded *os.File, but do not close it: Queue it when it is
// complete or Abort it.
type File struct {
	*os.File
	c      *Committer
	fs     *fsys
	root   *os.Root // nil, or what name and target are relative to
	name   string   // the temporary file
	target string
	meta   *Metadata
	uid    int // the owner and group it was created with
	gid    int
	seen   uint64 // fs.completed when the file was created
	done   chan struct{}
	err    error
}

// Create creates a temporary file in the directory of target, which Commit
// will rename to target.
func (c *Committer) Create(target string) (*File, error) {
	return c.create(nil, target)
}

// CreateIn is Create for a target inside root: the temporary file, the
// barrier's directory and the rename all go through root, so that neither
// ".." nor a symbolic link can lead them outside it.
func (c *Committer) CreateIn(root *os.Root, target string) (*File, error) {
	return c.create(root, target)
}

func (c *Committer) create(root *os.Root, target string) (*File, error) {
	dir := filepath.Dir(target)
	var (
		osf  *os.File
		name string
		err  error
	)
	for range 100 {
		name = filepath.Join(dir, TempPrefix+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		if root != nil {
			osf, err = root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		} else {
			osf, err = openTemp(name)
		}
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	f := &File{File: osf, c: c, root: root, name: name, target: target, done: make(chan struct{})}
	fi, err := osf.Stat()
	if err == nil {
		f.uid, f.gid = owner(fi)
		f.fs, err = c.fsysOf(fi, func() (*os.File, error) {
			if root != nil {
				return root.Open(dir)
			}
			return os.Open(dir)
		})
	}
	if err != nil {
		f.remove()
		return nil, err
	}
	f.fs.mu.Lock()
	f.seen = f.fs.completed
	f.fs.mu.Unlock()
	return f, nil
}

// fsysOf returns the fsys of the file system holding the file fi, opening
// its barrier descriptor with open the first time.
func (c *Committer) fsysOf(fi fs.FileInfo, open func() (*os.File, error)) (*fsys, error) {
	dev := devOf(fi)
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.fss[dev]; s != nil {
		return s, nil
	}
	d, err := open()
	if err != nil {
		return nil, err
	}
	if c.fss == nil {
		c.fss = make(map[uint64]*fsys)
	}
	s := &fsys{dir: d}
	s.idle.L = &s.mu
	c.fss[dev] = s
	return s, nil
}

// Name returns the temporary file's name.
func (f *File) Name() string { return f.name }

// SetMetadata sets what the file is given once it is durable, before its
// rename: nil (the default) leaves it as created, owner-only.
func (f *File) SetMetadata(m *Metadata) { f.meta = m }

// Abort closes and removes the file.
func (f *File) Abort() {
	f.remove()
}

func (f *File) remove() {
	f.File.Close()
	if f.root != nil {
		f.root.Remove(f.name)
	} else {
		os.Remove(f.name)
	}
}

// Queue adds the complete file to its file system's next batch.
func (f *File) Queue() {
	f.fs.mu.Lock()
	f.fs.queue = append(f.fs.queue, f)
	f.fs.mu.Unlock()
}

// Commit makes sure that each of files, which must be queued, is durable
// and renamed over its target, or failed and removed, and returns the
// error of each. It takes one barrier for each file system with a file of
// files still queued, which commits every file queued there, other
// callers' too.
func (c *Committer) Commit(files []*File) []error {
	errs := make([]error, len(files))
	for _, f := range files {
		select {
		case <-f.done:
		default:
			f.fs.commit(c, f)
		}
	}
	for i, f := range files {
		<-f.done
		errs[i] = f.err
	}
	return errs
}

// Flush commits every file queued so far, on every file system, and
// returns when they and every other commit in progress are renamed or
// failed. A writer out of space flushes before it tries again, as a
// committed file frees its original's space (and halves the batch limit).
func (c *Committer) Flush() {
	c.resize(false)
	for _, s := range c.all() {
		s.commit(c, nil)
		s.mu.Lock()
		for s.busy > 0 {
			s.idle.Wait()
		}
		s.mu.Unlock()
	}
}

// Ended returns how many files have been committed or failed so far
// (what a caller can check Flush against).
func (c *Committer) Ended() uint64 { return c.ended.Load() }

func (c *Committer) all() []*fsys {
	c.mu.Lock()
	defer c.mu.Unlock()
	all := make([]*fsys, 0, len(c.fss))
	for _, s := range c.fss {
		all = append(all, s)
	}
	return all
}

// commit takes a barrier for what is queued on s, then renames each file,
// or fails it when that barrier or an earlier one that may have covered
// its writes failed. When want is not nil and another caller's batch has
// taken it meanwhile, commit leaves the queue to later callers.
func (s *fsys) commit(c *Committer, want *File) {
	s.barrier.Lock()
	s.mu.Lock()
	batch := s.queue
	if want != nil && !slices.Contains(batch, want) {
		batch = nil
	} else {
		s.queue = nil
	}
	if len(batch) > 0 {
		s.busy++
	}
	s.mu.Unlock()
	if len(batch) == 0 {
		s.barrier.Unlock()
		return
	}
	var err error
	if c.Barrier != nil {
		err = c.Barrier(s.dir)
	} else {
		err = barrier(s.dir, batch)
	}
	s.mu.Lock()
	s.completed++
	s.renamed = false // the barrier covered the renames before it
	if err != nil {
		s.failAt, s.failErr = s.completed, err
	} else {
		c.resize(true)
	}
	failAt, failErr := s.failAt, s.failErr
	s.mu.Unlock()
	s.barrier.Unlock()

	var renamed []*File
	for _, f := range batch {
		if failAt > f.seen {
			f.remove()
			f.err = fmt.Errorf("sync: %w", failErr)
		} else if f.err = f.finish(); f.err == nil {
			renamed = append(renamed, f)
		}
	}
	if len(renamed) > 0 {
		s.mu.Lock()
		s.renamed = true
		s.mu.Unlock()
		syncDirs(renamed)
	}
	c.ended.Add(uint64(len(batch)))
	s.mu.Lock()
	if s.busy--; s.busy == 0 {
		s.idle.Broadcast()
	}
	s.mu.Unlock()
	for _, f := range batch {
		close(f.done)
	}
}

// finish gives the durable file its metadata and its final name.
func (f *File) finish() error {
	if f.meta != nil {
		if err := f.meta.apply(f.File, f.uid, f.gid); err != nil {
			f.remove()
			return err
		}
	}
	if err := f.File.Close(); err != nil {
		f.remove()
		return err
	}
	var err error
	if f.root != nil {
		err = f.root.Rename(f.name, f.target)
	} else {
		err = rename(f.name, f.target)
	}
	if err != nil {
		f.remove()
	}
	return err
}

// Close takes a last barrier on each file system with renames since its
// last one, so that they are durable, and releases the descriptors. Files
// still queued are committed first.
func (c *Committer) Close() error {
	c.Flush()
	var errs []error
	_ = syncFSWorks
	for _, s := range c.all() {
		s.mu.Lock()
		renamed := s.renamed
		s.mu.Unlock()
		if renamed && syncFSWorks {
			var err error
			if c.Barrier != nil {
				err = c.Barrier(s.dir)
			} else {
				err = barrier(s.dir, nil)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("sync %s: %w", s.dir.Name(), err))
			}
		}
		s.dir.Close()
	}
	c.mu.Lock()
	c.fss = nil
	c.mu.Unlock()
	return errors.Join(errs...)
}
