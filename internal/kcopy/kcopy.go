package kcopy

import (
	"context"
	"io"
	"os"
)

// HeaderRead is the most a Reader reads at a time. Reads fill the
// bufio.Reader the header is read through; most headers fit in one, and what
// such a read takes past the header is written back out through user space,
// where the kernel would otherwise move it, into buffer pages that are
// touched (and faulted in) for nothing.
const HeaderRead = 4 << 10

// chunk is the most a copy moves between two looks at its context.
const chunk = 1 << 20

// A Reader reads an input file for a rewrite and copies what is left of it
// to an output in the kernel.
type Reader struct {
	ctx context.Context
	f   *os.File
}

// NewReader returns a Reader of f.
func NewReader(f *os.File) Reader { return Reader{context.Background(), f} }

// NewReaderContext returns a Reader of f whose reads and copies stop with
// context.Cause(ctx) once ctx is done: a copy looks at ctx between chunks
// of at most 1 MiB, so a signal stops even the copy of a huge file at once.
func NewReaderContext(ctx context.Context, f *os.File) Reader { return Reader{ctx, f} }

// Read reads at most HeaderRead bytes from the file.
func (r Reader) Read(p []byte) (int, error) {
	if r.ctx.Err() != nil {
		return 0, context.Cause(r.ctx)
	}
	return r.f.Read(p[:min(len(p), HeaderRead)])
}

// Seek seeks the file, so that a reader can look ahead and come back.
func (r Reader) Seek(offset int64, whence int) (int64, error) { return r.f.Seek(offset, whence) }

// WriteTo copies the rest of the file to w: in the kernel when w is an
// *os.File that Splice takes, else with io.Copy, through user space. A
// copy that fails returns an *Error, which says whether reading the file or
// writing w failed; one stopped by the context returns context.Cause.
func (r Reader) WriteTo(w io.Writer) (n int64, err error) {
	if out, ok := w.(*os.File); ok {
		var handled bool
		if n, handled, err = Splice(r.ctx, out, r.f); handled {
			return n, err
		}
	}
	cr := &chunkReader{r: r}
	m, err := io.Copy(w, cr)
	if err != nil && !cr.failed {
		err = &Error{"write", err}
	}
	return n + m, err
}

// An Error reports a copy (WriteTo, Splice) that failed, and at which end.
type Error struct {
	Op  string // "read" (the source) or "write" (the destination)
	Err error  // the *fs.PathError of the file's splice, Read or Write; or the Writer's error
}

func (e *Error) Error() string { return e.Op + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// A chunkReader reads the file of a Reader, at most a chunk a read,
// looking at the Reader's context before each.
type chunkReader struct {
	r      Reader
	failed bool // a Read returned the context's cause or an *Error
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.r.ctx.Err() != nil {
		c.failed = true
		return 0, context.Cause(c.r.ctx)
	}
	n, err := c.r.f.Read(p[:min(len(p), chunk)])
	if err != nil && err != io.EOF {
		c.failed = true
		err = &Error{"read", err}
	}
	return n, err
}
