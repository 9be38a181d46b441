package inject

import (
	"errors"
	"io"

	"github.com/sesmime/sesmime/internal/mbox"
)

// NewWriter returns a writer that rewrites the message written to it as
// rw.Rewrite would, writing the result to w. It holds the header block
// until it has seen where the block ends, then writes the new header to w
// in one Write and passes every later Write straight through.
//
// Close must be called at the end of the message: it writes a header that
// is still held (a message that is all header) and returns the error, if
// any, that the header was refused with. After such an error nothing has
// been written to w and every Write and Close returns that error. Close
// does not close w.
//
// A message that starts with an mbox "From " line is watched for a second
// message as it passes through: Write and Close then return a
// *sesmime.AmbiguityError ("several messages in one file"), after the
// bytes before it were written (a writer cannot take them back; discard
// the output).
//
// The header is bounded by Options.Limits as in Rewrite: a header over a
// limit is refused after at most twice the limit (plus one 16 KiB buffer)
// has been held.
func (rw *Rewriter) NewWriter(w io.Writer) io.WriteCloser {
	return &writer{rw: rw, w: w}
}

// errNeedMore ends a header read that ran out of held bytes before it
// could decide.
var errNeedMore = errors.New("need more input")

type writer struct {
	rw     *Rewriter
	w      io.Writer
	buf    []byte // the bytes held while the header is being read
	tried  int    // len(buf) at the last attempt to read the header
	scan   int    // bytes of buf scanned for an empty line
	mid    bool   // scan stopped inside a line
	blank  bool   // an empty line has been seen
	body   bool   // the header has been written: pass writes through
	err    error  // sticky error
	closed bool
	sc     *mbox.Scanner // watches the body of an mbox message
}

// heldReader reads buf and then reports errNeedMore, or io.EOF once the
// writer is closed.
type heldReader struct {
	b   []byte
	end error
}

func (r *heldReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, r.end
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func (wr *writer) Write(p []byte) (int, error) {
	if wr.err != nil {
		return 0, wr.err
	}
	if wr.closed {
		return 0, errors.New("write after Close")
	}
	if wr.body {
		if wr.sc != nil {
			return wr.watch(p)
		}
		return wr.w.Write(p)
	}
	wr.buf = append(wr.buf, p...)
	if !wr.ready() {
		return len(p), nil
	}
	if err := wr.try(errNeedMore); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ready reports whether the header is worth reading again: the first
// empty line has arrived (the header ends at it or before), buf has
// doubled since the last attempt (so the attempts cost O(len(buf)) in
// all), or it has grown past what the limits allow.
func (wr *writer) ready() bool {
	if len(wr.buf) >= 2*wr.tried || len(wr.buf) > wr.rw.maxHeld() {
		return true
	}
	if wr.blank {
		return false
	}
	b := wr.buf
	for i := wr.scan; i < len(b); i++ {
		c := b[i]
		if !wr.mid && c == '\r' && i+1 == len(b) {
			wr.scan = i // wait for the byte after the CR
			return false
		}
		if !wr.mid && (c == '\n' || c == '\r' && b[i+1] == '\n') {
			wr.blank = true
			return true
		}
		wr.mid = c != '\n'
	}
	wr.scan = len(b)
	return false
}

// try reads the header from buf, end being what the read meets after buf,
// and writes the new header and the rest of buf once it is read.
func (wr *writer) try(end error) error {
	wr.tried = len(wr.buf)
	rw := wr.rw
	st := rw.state()
	defer rw.put(st)
	src := &heldReader{b: wr.buf, end: end}
	st.br.Reset(src)
	_, err := rw.header(st, st.br)
	if errors.Is(err, errNeedMore) {
		return nil
	}
	if err != nil {
		wr.err = err
		wr.buf = nil
		return err
	}
	rest := wr.buf[len(wr.buf)-len(src.b)-st.br.Buffered():]
	wr.body = true
	if wr.sc = mbox.For(&st.h, st.h.NoHeader()); wr.sc != nil {
		wr.sc.Write(rest)
		if err := wr.sc.Err(); err != nil {
			wr.err, wr.buf = err, nil
			return err
		}
	}
	out := st.out
	if len(rest) > 0 {
		out = append(out, rest...)
		st.out = out
	}
	wr.buf = nil
	if _, err := wr.w.Write(out); err != nil {
		wr.err = err
		return err
	}
	return nil
}

// watch writes p, the body of an mbox message, unless a second message
// starts in it.
func (wr *writer) watch(p []byte) (int, error) {
	wr.sc.Write(p)
	if err := wr.sc.Err(); err != nil {
		wr.err = err
		return 0, err
	}
	return wr.w.Write(p)
}

// Close writes what is still held and reports the error the header was
// refused with, if any.
func (wr *writer) Close() error {
	if wr.err != nil || wr.closed {
		return wr.err
	}
	wr.closed = true
	if wr.body {
		return nil
	}
	return wr.try(io.EOF)
}

// maxHeld returns how many bytes a header read may take before it fails
// with a limit error, or a very large number when a limit is off.
func (rw *Rewriter) maxHeld() int {
	l := rw.opts.Limits
	hb, lb := l.MaxHeaderBytes, l.MaxLineBytes
	if hb == 0 {
		hb = defaultMaxHeaderBytes
	}
	if lb == 0 {
		lb = defaultMaxLineBytes
	}
	if hb < 0 {
		return int(^uint(0) >> 1)
	}
	return hb + max(lb, 0) + 2*bufSize
}

// The defaults of mimeheaders.Limits.
const (
	defaultMaxHeaderBytes = 1 << 20
	defaultMaxLineBytes   = 64 << 10
)
