package parse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// Bounds of the MIME walk.
const (
	maxDepth           = 32       // entities nested deeper are not walked
	maxPartHeaderBytes = 64 << 10 // a part header (with the preamble before it) over this is reported
)

// errPartHeaderTooLarge stops go-message reading a part header over
// maxPartHeaderBytes.
var errPartHeaderTooLarge = errors.New("parse: part header too large")

// A longLines notes the lines over 998 bytes of a stream.
type longLines struct {
	count, first, firstLen, longest int
}

// A feeder hands a stream to go-message one line per Read, so that what it
// has handed out tells where the parser is: go-message's buffer then holds
// at most the line it is looking at, and once a part header has been read
// (it ends with the empty line go-message peeked at) the next line the
// feeder would hand out is the first line of the part's body. It counts
// bytes and lines, notes the boundary lines of the multipart body it
// carries, and can bound the bytes of a part header.
type feeder struct {
	br      *bufio.Reader
	base    int    // line number in the message of the stream's first line
	nl      int    // '\n' fetched
	n       int64  // bytes fetched
	pending []byte // fetched, not yet handed out
	col     int    // bytes of the current line fetched so far
	last    byte   // last byte fetched
	prev    byte   // the byte before it

	dash      []byte // "--boundary" of the multipart body this stream is, or nil
	delim     int    // line of the last boundary line, 0 if none
	sawFinal  bool   // the closing boundary line was seen
	budget    int64  // > 0: bytes that may still be fetched
	overspent bool   // the budget ran out
	eof       bool   // the stream ended
	err       error  // read error other than io.EOF

	long *longLines // when set, lines over 998 bytes are noted
}

func newFeeder(r io.Reader, base int) *feeder {
	return &feeder{br: bufio.NewReaderSize(r, 4096), base: base}
}

// line returns the line number in the message of the next line to fetch.
func (f *feeder) line() int { return f.base + f.nl }

func (f *feeder) Read(p []byte) (int, error) {
	if len(f.pending) == 0 {
		if err := f.fetch(); err != nil {
			return 0, err
		}
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	return n, nil
}

// fetch reads the next line, or the next 4096 bytes of a longer line, into
// f.pending. go-message sees io.EOF for any end of the stream.
func (f *feeder) fetch() error {
	if f.eof {
		return io.EOF
	}
	if f.overspent {
		return errPartHeaderTooLarge
	}
	b, err := f.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		err = nil
	}
	if f.col == 0 && len(b) > 0 && f.dash != nil {
		switch delimiter(b, f.dash) {
		case 1:
			f.delim = f.line()
		case 2:
			f.delim, f.sawFinal = f.line(), true
		}
	}
	f.account(b)
	if err != nil {
		f.eof = true
		if err != io.EOF && f.err == nil {
			f.err = err
		}
		f.endLine()
	}
	if f.budget > 0 {
		f.budget -= int64(len(b))
		if f.budget <= 0 {
			f.overspent = true
			return errPartHeaderTooLarge
		}
	}
	if len(b) == 0 {
		return io.EOF
	}
	f.pending = b
	return nil
}

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

// badLine returns the line of the field go-message's header error err
// is about. The error holds the field with a line ending per line (or, for
// a bad name, the name alone), and go-message has fetched one line past the
// field unless the input ended; a bad first line is not looked past.
func (f *feeder) badLine(err error) int {
	msg := err.Error()
	if strings.Contains(msg, "initial line") {
		return f.lastLine()
	}
	lines := max(strings.Count(msg, "\n"), 1)
	l := f.lastLine() - lines + 1
	if !f.eof {
		l--
	}
	return max(l, f.base)
}

// skipLine reads one line (or 4096 bytes of it).
func (f *feeder) skipLine() {
	if f.fetch() == nil {
		f.pending = nil
	}
}

// drain reads the rest of the stream.
func (f *feeder) drain() {
	f.pending = nil
	f.budget, f.overspent = 0, false
	for f.fetch() == nil {
		f.pending = nil
	}
}

// arm bounds the bytes fetched from now on to n; disarm lifts the bound.
func (f *feeder) arm(n int64) { f.budget, f.overspent = n, false }

func (f *feeder) disarm() { f.budget = 0 }

// delimiter reports whether line is a boundary line of dash ("--b"): 1 for
// "--b", 2 for the closing "--b--", each followed only by SP/HTAB and the
// line ending; else 0. It matches what go-message accepts.
func delimiter(line, dash []byte) int {
	if !bytes.HasPrefix(line, dash) {
		return 0
	}
	rest, kind := line[len(dash):], 1
	if bytes.HasPrefix(rest, []byte("--")) {
		rest, kind = rest[2:], 2
	}
	rest = bytes.TrimLeft(rest, " \t")
	switch string(rest) {
	case "", "\n", "\r\n":
		return kind
	}
	return 0
}

// A walker walks the MIME structure of a message read-only.
type walker struct {
	add func(line int, code string, sev Severity, format string, args ...any)
}

// entity walks the body in f of an entity whose Content-Type field ct is
// at line ctLine (0 when defaulted) and whose Content-Transfer-Encoding
// fields are cte.
func (w *walker) entity(f *feeder, ct string, cte []string, ctLine, depth int) {
	if depth >= maxDepth {
		return
	}
	if len(cte) > 0 {
		switch strings.ToLower(strings.TrimSpace(cte[0])) {
		case "", "7bit", "8bit", "binary":
		default:
			return // an encoded body is not walked
		}
	}
	mt, params, err := mime.ParseMediaType(ct)
	lower := strings.ToLower(strings.TrimSpace(ct))
	switch {
	case strings.HasPrefix(lower, "multipart/"):
		b := params["boundary"]
		if b == "" {
			why := "it has no boundary parameter"
			if err != nil {
				why = fmt.Sprintf("its parameters do not parse (%v)", err)
			}
			w.add(ctLine, CodeNoBoundary, Error, "Content-Type %s: %s, so the parts cannot be found", cut(ct), why)
			return
		}
		w.multipart(f, b, mt == "multipart/digest", ctLine, depth)
	case mt == "message/rfc822" || mt == "message/global":
		w.message(f, depth)
	}
}

// multipart walks the parts of a multipart body.
func (w *walker) multipart(f *feeder, boundary string, digest bool, ctLine, depth int) {
	start := f.line()
	f.dash = []byte("--" + boundary)
	mr := textproto.NewMultipartReader(f, boundary)
	for parts := 0; ; parts++ {
		f.arm(maxPartHeaderBytes)
		p, err := mr.NextPart()
		f.disarm()
		switch {
		case f.overspent:
			w.add(f.delim+1, CodePartHeader, Error, "part header (with what precedes it) is over %d bytes", maxPartHeaderBytes)
			return
		case err == io.EOF && f.sawFinal:
			return
		case err == io.EOF || err != nil && f.eof && strings.HasPrefix(err.Error(), "multipart:"):
			if parts == 0 && f.delim == 0 {
				w.add(ctLine, CodeNoFinalBoundary, Error, "multipart body (boundary %s) has no boundary line: it has no parts", cut(boundary))
			} else {
				w.add(f.lastLine(), CodeNoFinalBoundary, Warning, "multipart body from line %d ends without its closing boundary line %s", start, cut("--"+boundary+"--"))
			}
			return
		case err != nil && strings.HasPrefix(err.Error(), "message:"):
			w.add(f.badLine(err), CodePartHeader, Error, "part header does not parse: %s", cut(err.Error()))
			return
		case err != nil:
			w.add(f.lastLine(), CodeMultipartSyntax, Error, "multipart body (boundary %s) cannot be followed: %s", cut(boundary), cut(err.Error()))
			return
		}
		line, pct, pctLine := f.delim+1, "", 0
		fs := p.Header.Fields()
		for fs.Next() {
			if fs.Key() == "Content-Type" && pctLine == 0 {
				pct, pctLine = fs.Value(), line
			}
			raw, _ := fs.Raw()
			line += bytes.Count(raw, []byte("\n"))
		}
		if pctLine == 0 && digest {
			pct = "message/rfc822"
		}
		if pct != "" {
			child := newFeeder(p, f.line())
			w.entity(child, pct, p.Header.Values("Content-Transfer-Encoding"), pctLine, depth+1)
		}
		// Read the rest of the part now: NextPart would, but within the
		// part header's budget.
		io.Copy(io.Discard, p)
	}
}

// message walks an encapsulated message: its header, then its body.
func (w *walker) message(f *feeder, depth int) {
	start := f.line()
	gb := bufio.NewReaderSize(f, 4096)
	f.arm(maxPartHeaderBytes)
	h, err := textproto.ReadHeader(gb)
	f.disarm()
	switch {
	case f.overspent:
		w.add(start, CodePartHeader, Error, "header of the attached message is over %d bytes", maxPartHeaderBytes)
		return
	case err != nil && err != io.EOF:
		w.add(f.badLine(err), CodePartHeader, Error, "header of the attached message does not parse: %s", cut(err.Error()))
		return
	case gb.Buffered() > 0:
		return // cannot happen: the header ended with an empty line
	}
	line, ct, ctLine := start, "", 0
	fs := h.Fields()
	for fs.Next() {
		if fs.Key() == "Content-Type" && ctLine == 0 {
			ct, ctLine = fs.Value(), line
		}
		raw, _ := fs.Raw()
		line += bytes.Count(raw, []byte("\n"))
	}
	if ct != "" {
		w.entity(f, ct, h.Values("Content-Transfer-Encoding"), ctLine, depth+1)
	}
}

// cut returns s cut to 80 bytes, quoted when it was cut or has control bytes.
func cut(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%q...", s[:80])
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}
