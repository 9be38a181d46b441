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
// *os.File (see Splice, then os.File.ReadFrom), else with io.Copy.
func (r Reader) WriteTo(w io.Writer) (int64, error) {
	out, ok := w.(*os.File)
	if !ok {
		return io.Copy(w, chunkReader(r))
	}
	n, handled, err := Splice(r.ctx, out, r.f)
	if handled {
		return n, err
	}
	for {
		if r.ctx.Err() != nil {
			return n, context.Cause(r.ctx)
		}
		m, err := out.ReadFrom(&io.LimitedReader{R: r.f, N: chunk})
		n += m
		if err != nil || m == 0 {
			return n, err
		}
	}
}

// A chunkReader reads the file of a Reader in reads of any size, looking
// at the Reader's context before each.
type chunkReader Reader

func (r chunkReader) Read(p []byte) (int, error) {
	if r.ctx.Err() != nil {
		return 0, context.Cause(r.ctx)
	}
	return r.f.Read(p[:min(len(p), chunk)])
}
