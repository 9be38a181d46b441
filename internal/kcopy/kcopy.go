package kcopy

import (
	"io"
	"os"
)

// HeaderRead is the most a Reader reads at a time. Reads fill the
// bufio.Reader the header is read through; most headers fit in one, and what
// such a read takes past the header is written back out through user space,
// where the kernel would otherwise move it, into buffer pages that are
// touched (and faulted in) for nothing.
const HeaderRead = 4 << 10

// A Reader reads an input file for a rewrite and copies what is left of it
// to an output in the kernel.
type Reader struct{ f *os.File }

// NewReader returns a Reader of f.
func NewReader(f *os.File) Reader { return Reader{f} }

// Read reads at most HeaderRead bytes from the file.
func (r Reader) Read(p []byte) (int, error) { return r.f.Read(p[:min(len(p), HeaderRead)]) }

// Seek seeks the file, so that a reader can look ahead and come back.
func (r Reader) Seek(offset int64, whence int) (int64, error) { return r.f.Seek(offset, whence) }

// WriteTo copies the rest of the file to w: in the kernel when w is an
// *os.File (see Splice, then os.File.ReadFrom), else with io.Copy.
func (r Reader) WriteTo(w io.Writer) (int64, error) {
	out, ok := w.(*os.File)
	if !ok {
		return io.Copy(w, struct{ io.Reader }{r.f})
	}
	n, handled, err := Splice(out, r.f)
	if handled {
		return n, err
	}
	m, err := out.ReadFrom(r.f)
	return n + m, err
}
