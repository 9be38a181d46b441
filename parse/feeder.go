package parse

import (
	"bufio"
	"errors"
	"io"
)

// pieceSize is the most a feeder fetches at a time: a whole line, or this
// many bytes of a longer one.
const pieceSize = 4096

// A longLines notes the lines over 998 bytes of a stream.
type longLines struct {
	count, first, firstLen, longest int
}

// A feeder reads a stream one piece at a time: a line, or pieceSize bytes
// of a longer line, so that it never holds more than one piece. It counts
// bytes and lines, notes long lines when asked, can give the last piece
// back once (a one-piece look-ahead), and can bound the bytes fetched
// while a header is read.
type feeder struct {
	br   *bufio.Reader
	base int   // line number in the message of the stream's first line
	nl   int   // '\n' fetched
	n    int64 // bytes fetched
	col  int   // bytes of the current line fetched so far
	last byte  // last byte fetched
	prev byte  // the byte before it

	piece []byte // the piece fetched last (returned by next unless it overspent the budget)
	at    int    // line number in the message of piece
	again bool   // next returns piece again

	budget    int64 // > 0: bytes that may still be fetched
	overspent bool  // the budget ran out
	eof       bool  // the stream ended
	err       error // read error other than io.EOF

	long *longLines // when set, lines over 998 bytes are noted
}

// newFeeder returns a feeder reading r, whose first line is line base of
// the message.
func newFeeder(r io.Reader, base int) *feeder {
	return &feeder{br: bufio.NewReaderSize(r, pieceSize), base: base}
}

// line returns the line number in the message of the next line to fetch.
func (f *feeder) line() int { return f.base + f.nl }

// next returns the next piece of the stream, valid until the following
// call, and false at the end of the stream, on a read error, or once the
// budget has run out (the piece that overspent it is counted, not
// returned). A piece without '\n' is either pieceSize bytes of a longer
// line or the last line of the stream.
func (f *feeder) next() ([]byte, bool) {
	if f.again {
		f.again = false
		return f.piece, true
	}
	if f.eof || f.overspent {
		return nil, false
	}
	b, err := f.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		err = nil
	}
	f.at = f.line()
	f.account(b)
	if err != nil {
		f.eof = true
		if err != io.EOF && f.err == nil {
			f.err = err
		}
		f.endLine()
	}
	f.piece = b
	if f.budget > 0 {
		f.budget -= int64(len(b))
		if f.budget <= 0 {
			f.overspent = true
			return nil, false
		}
	}
	return b, len(b) > 0
}

// back makes next return the piece it returned last once more.
func (f *feeder) back() { f.again = true }

// account counts the bytes b.
func (f *feeder) account(b []byte) {
	if len(b) == 0 {
		return
	}
	f.n += int64(len(b))
	f.col += len(b)
	if len(b) >= 2 {
		f.prev = b[len(b)-2]
	} else {
		f.prev = f.last
	}
	f.last = b[len(b)-1]
	if f.last == '\n' {
		f.endLine()
		f.nl++
	}
}

// endLine notes the length, without its line ending, of the line just
// fetched.
func (f *feeder) endLine() {
	if f.col == 0 {
		return
	}
	n := f.col
	if f.last == '\n' {
		n--
		if f.prev == '\r' {
			n--
		}
	}
	f.col = 0
	if f.long == nil || n <= 998 {
		return
	}
	ll := f.long
	ll.count++
	if ll.count == 1 {
		ll.first, ll.firstLen = f.line(), n
	}
	ll.longest = max(ll.longest, n)
}

// lastLine returns the line number in the message of the last line
// fetched.
func (f *feeder) lastLine() int {
	if f.last == '\n' || f.n == 0 {
		return max(f.line()-1, f.base)
	}
	return f.line()
}

// skipLine reads one piece: the line, or pieceSize bytes of it.
func (f *feeder) skipLine() { f.next() }

// drain reads the rest of the stream, without a budget.
func (f *feeder) drain() {
	f.again = false
	f.budget, f.overspent = 0, false
	for {
		if _, ok := f.next(); !ok {
			return
		}
	}
}

// arm bounds the bytes fetched from now on to n; disarm lifts the bound.
func (f *feeder) arm(n int64) { f.budget, f.overspent = n, false }

// disarm lifts the bound arm set; overspent stays as it is.
func (f *feeder) disarm() { f.budget = 0 }
