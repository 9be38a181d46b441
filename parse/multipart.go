package parse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The MIME reader below follows RFC 2046 §5.1.1 as go-message's textproto
// package (v0.18) reads it, which parse.Lint used until it had its own: the
// decisions are the same, so findings stay where they were, but they are
// worded in sesmime's terms (what is wrong in the message, where). Where
// that reading is stricter or more lenient than the RFC, it is said where
// it happens.

// errHeaderTooLarge is returned for a header, with the preamble before it,
// that overspends its feeder's budget.
var errHeaderTooLarge = errors.New("part header too large")

// A structureError is MIME structure the reader cannot follow: a header
// that does not parse, or boundary lines out of place.
type structureError struct {
	header bool   // a part header or attached message's header
	line   int    // line in the message it is about: the field's first line, or the line read
	text   string // what is wrong, for a finding
}

func (e *structureError) Error() string { return e.text }

// A headerField is a field of a part header.
type headerField struct {
	name  string // as written, without the SP/HTAB around it
	value string // unfolded as go-message unfolds it (see unfold)
	line  int    // line in the message the field starts on
}

// A partHeader is the header of a part or of an attached message.
type partHeader []headerField

// get returns the value and line of the first field named name (ignoring
// case), or "" and 0.
func (h partHeader) get(name string) (string, int) {
	for _, fd := range h {
		if strings.EqualFold(fd.name, name) {
			return fd.value, fd.line
		}
	}
	return "", 0
}

// values returns the values of the fields named name, in order.
func (h partHeader) values(name string) []string {
	var vs []string
	for _, fd := range h {
		if strings.EqualFold(fd.name, name) {
			vs = append(vs, fd.value)
		}
	}
	return vs
}

// readPartHeader reads a header block from f up to and including the empty
// line that ends it, or to the end of the stream, as go-message's
// textproto.ReadHeader does: a field is a line and the lines after it that
// start with SP or HTAB; its name is what precedes the first colon, without
// SP/HTAB around it, and must be bytes 33..126; a field with an empty name
// is skipped. A first line starting with SP or HTAB, a line without a
// colon (unlike mimeheaders, which ends the block there) and a bad name
// are *structureErrors. Memory is bounded by f's budget: a header that
// overspends it is errHeaderTooLarge.
func readPartHeader(f *feeder) (partHeader, error) {
	h, err := readFields(f)
	if f.overspent {
		return nil, errHeaderTooLarge
	}
	return h, err
}

// readFields reads the fields of readPartHeader.
func readFields(f *feeder) (partHeader, error) {
	if p, ok := f.next(); ok {
		f.back()
		if isWSP(p[0]) {
			at := f.at
			line, _ := readLine(f, nil)
			return nil, headerError(at, "its first line %s starts with a space or tab, continuing nothing", line)
		}
	}
	var h partHeader
	var kv []byte
	for {
		var at int
		if kv, at = readField(f, kv[:0]); len(kv) == 0 {
			return h, nil
		}
		i := bytes.IndexByte(kv, ':')
		if i < 0 {
			return nil, headerError(at, "line %s has no colon", kv)
		}
		name := bytes.Trim(kv[:i], " \t")
		for _, c := range name {
			if c < 33 || c > 126 {
				return nil, headerError(at, "field name %s has a byte outside 33..126", name)
			}
		}
		if len(name) > 0 {
			h = append(h, headerField{name: string(name), value: unfold(kv[i+1:]), line: at})
		}
	}
}

// readField appends to dst the next field of f, its lines each without its
// line ending and followed by CRLF, and returns the line it starts on. It
// appends nothing at the empty line that ends the header or at the end of
// the stream.
func readField(f *feeder, dst []byte) ([]byte, int) {
	line, ok := readLine(f, dst)
	at := f.at
	if !ok || len(line) == len(dst) {
		return dst, at
	}
	line = append(line, "\r\n"...)
	for continued(f) {
		line, _ = readLine(f, line)
		line = append(line, "\r\n"...)
	}
	return line, at
}

// headerError returns a *structureError about the header field at line;
// format has one %s, for b quoted and cut.
func headerError(line int, format string, b []byte) error {
	return &structureError{header: true, line: line, text: fmt.Sprintf(format, quote80(string(b)))}
}

// readLine appends the next line of f to dst without its line ending ("\n"
// or "\r\n"), and returns false if the stream has ended.
func readLine(f *feeder, dst []byte) ([]byte, bool) {
	p, ok := f.next()
	if !ok {
		return dst, false
	}
	for {
		dst = append(dst, p...)
		if p[len(p)-1] == '\n' {
			dst = dst[:len(dst)-1]
			return bytes.TrimSuffix(dst, []byte("\r")), true
		}
		if p, ok = f.next(); !ok {
			return dst, true
		}
	}
}

// continued reports whether the next line of f starts with SP or HTAB.
func continued(f *feeder) bool {
	p, ok := f.next()
	if ok {
		f.back()
	}
	return ok && isWSP(p[0])
}

// isWSP reports whether c is SP or HTAB.
func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// unfold returns a field body as go-message gives it: each line without a
// CR before its LF and without SP/HTAB around it, empty lines dropped, the
// rest joined with one space.
func unfold(v []byte) string {
	var sb strings.Builder
	for line := range bytes.SplitSeq(v, []byte("\n")) {
		line = bytes.Trim(bytes.TrimSuffix(line, []byte("\r")), " \t")
		if len(line) == 0 {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.Write(line)
	}
	return sb.String()
}

// A multipartReader reads the parts of a multipart body from a feeder, as
// go-message's textproto.MultipartReader does. A delimiter line is "--"
// boundary, optional SP/HTAB (transport padding) and the line ending; the
// close-delimiter line has "--" after the boundary and may also end the
// stream without a line ending. Lines before the first delimiter line
// (the preamble) are skipped, as is everything after the close-delimiter
// (the epilogue, left unread).
//
// Stricter than RFC 2046: the line ending of the first delimiter line,
// CRLF or a bare LF, is the one every later delimiter line must be
// preceded and followed by; a boundary line that starts like a delimiter
// ("--boundary" then SP, HTAB, CR, LF or "-") but is not one is an error;
// and no line of the preamble or delimiter line may be over pieceSize
// bytes.
type multipartReader struct {
	f     *feeder
	dash  []byte // "--" boundary
	start int    // line of the body's first line
	lf    bool   // delimiters use a bare LF: the first one ended with it
	parts int    // delimiter lines read
	delim int    // line of the last line read that looks like a boundary line, 0 if none
	part  *part  // the current part, nil before the first
}

// newMultipartReader returns a reader of the multipart body in f.
func newMultipartReader(f *feeder, boundary string) *multipartReader {
	return &multipartReader{f: f, dash: []byte("--" + boundary), start: f.line()}
}

// nl returns the line ending delimiter lines use.
func (r *multipartReader) nl() string {
	if r.lf {
		return "\n"
	}
	return "\r\n"
}

// next skips the rest of the current part and returns the next one, with
// its header read. At the close-delimiter it returns io.EOF; if the stream
// ends first, or a boundary line is out of place, a *structureError; for a
// part header, what readPartHeader returns.
func (r *multipartReader) next() (*part, partHeader, error) {
	expect := false // the line ending before the line is a delimiter's
	if p := r.part; p != nil {
		p.drain()
		expect = p.afterNL
	}
	for {
		line, ok := r.f.next()
		if boundaryLike(r.f.piece, r.dash) && (ok || r.f.overspent) {
			r.delim = r.f.at
		}
		switch {
		case r.f.overspent:
			return nil, nil, errHeaderTooLarge
		case !ok:
			return nil, nil, r.error("the input ends before the next boundary line")
		}
		if line[len(line)-1] != '\n' {
			switch {
			case len(line) >= pieceSize:
				return nil, nil, r.error("a line of 4 KiB or more stands where a boundary line may")
			case r.isClose(line):
				return nil, nil, io.EOF
			}
			return nil, nil, r.error("the input ends before the next boundary line")
		}
		switch {
		case r.isDelimiter(line):
			r.parts++
			h, err := readPartHeader(r.f)
			if err != nil {
				return nil, nil, err
			}
			r.part = &part{r: r}
			return r.part, h, nil
		case r.isClose(line):
			return nil, nil, io.EOF
		case r.parts > 0 && expect:
			return nil, nil, r.error(fmt.Sprintf("a part ends and %s follows instead of a boundary line", quote80(string(line))))
		case r.parts > 0:
			return nil, nil, r.error(fmt.Sprintf("%s stands between parts where a boundary line must", quote80(string(line))))
		}
	}
}

// error returns a *structureError about the line read last.
func (r *multipartReader) error(text string) error {
	return &structureError{line: r.f.lastLine(), text: text}
}

// isDelimiter reports whether line is a delimiter line. The first one sets
// the line ending.
func (r *multipartReader) isDelimiter(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, r.dash)
	if !ok {
		return false
	}
	rest = bytes.TrimLeft(rest, " \t")
	if r.parts == 0 && string(rest) == "\n" {
		r.lf = true
	}
	return string(rest) == r.nl()
}

// isClose reports whether line is the close-delimiter line.
func (r *multipartReader) isClose(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, r.dash)
	if !ok {
		return false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte("--")); !ok {
		return false
	}
	rest = bytes.TrimLeft(rest, " \t")
	return len(rest) == 0 || string(rest) == r.nl()
}

// endsBody reports whether line, at the start of a part's body or after a
// line ending of the delimiters' kind, ends the body: it starts with
// "--boundary" followed by SP, HTAB, CR, LF, "-" or nothing more.
func (r *multipartReader) endsBody(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, r.dash)
	return ok && (len(rest) == 0 || strings.IndexByte(" \t\r\n-", rest[0]) >= 0)
}

// boundaryLike reports whether line is "--boundary", optionally followed
// by "--", then only SP/HTAB and a line ending (CRLF or LF, or none):
// whether it looks like a boundary line, whatever its line ending.
func boundaryLike(line, dash []byte) bool {
	rest, ok := bytes.CutPrefix(line, dash)
	if !ok {
		return false
	}
	rest, _ = bytes.CutPrefix(rest, []byte("--"))
	switch string(bytes.TrimLeft(rest, " \t")) {
	case "", "\n", "\r\n":
		return true
	}
	return false
}

// A part is the body of a part: an io.Reader of the bytes up to the line
// ending before the next boundary line, which belongs to the delimiter.
// It reads its multipartReader's feeder a piece at a time, holding back a
// line ending (or its CR) until the next piece shows whether a delimiter
// follows.
type part struct {
	r       *multipartReader
	out     []byte  // bytes of the current piece still to return
	pre     []byte  // held bytes to return before out
	preBuf  [2]byte // storage of pre
	held    [2]byte // line ending (or its CR) held back from the piece before
	nheld   int
	begun   bool // a piece of the body has been read
	done    bool // the body has ended
	afterNL bool // it ended at a boundary line after a line ending
}

// Read reads the body. It returns io.EOF at its end.
func (p *part) Read(b []byte) (int, error) {
	for len(p.pre) == 0 && len(p.out) == 0 {
		if p.done {
			return 0, io.EOF
		}
		p.fill()
	}
	n := copy(b, p.pre)
	p.pre = p.pre[n:]
	m := copy(b[n:], p.out)
	p.out = p.out[m:]
	return n + m, nil
}

// drain reads the rest of the body without copying it.
func (p *part) drain() {
	for !p.done {
		p.fill()
	}
	p.pre, p.out = nil, nil
}

// fill reads the next piece into p.pre and p.out, or ends the body. At the
// end of the stream, a held line ending and a last line that is the start
// of "--boundary" are dropped, as go-message drops them.
func (p *part) fill() {
	r := p.r
	line, ok := r.f.next()
	canEnd := !p.begun || p.nheld == len(r.nl()) // a boundary line may start here
	p.begun = true
	switch {
	case !ok:
		p.done = true
		return
	case canEnd && r.endsBody(line):
		p.done, p.afterNL = true, p.nheld > 0
		r.f.back()
		return
	case canEnd && r.f.eof && line[len(line)-1] != '\n' && bytes.HasPrefix(r.dash, line):
		p.done = true
		return
	case !r.lf && p.nheld == 1 && string(line) == "\n":
		p.held[1], p.nheld = '\n', 2 // a CRLF split across two pieces
		return
	}
	p.pre = append(p.preBuf[:0], p.held[:p.nheld]...)
	k := heldBack(line, r.lf)
	p.nheld = copy(p.held[:], line[len(line)-k:])
	p.out = line[:len(line)-k]
}

// heldBack returns how many bytes at the end of line are held back: its LF
// when delimiters use a bare LF, else its CRLF, or a CR that an LF may
// follow in the next piece.
func heldBack(line []byte, lf bool) int {
	n := len(line)
	switch {
	case lf:
		if line[n-1] == '\n' {
			return 1
		}
	case n >= 2 && line[n-2] == '\r' && line[n-1] == '\n':
		return 2
	case line[n-1] == '\r':
		return 1
	}
	return 0
}

// quote80 returns s without its line ending, quoted, cut to 80 bytes.
func quote80(s string) string {
	s = strings.TrimRight(s, "\r\n")
	if len(s) > 80 {
		return fmt.Sprintf("%q...", s[:80])
	}
	return fmt.Sprintf("%q", s)
}
