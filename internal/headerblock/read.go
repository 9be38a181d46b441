package headerblock

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// Default limits, used where a Limits field is zero.
const (
	defaultMaxHeaderBytes = 1 << 20
	defaultMaxLineBytes   = 64 << 10
	defaultMaxFields      = 20000
)

// Limits bounds what Read holds in memory. A zero field means its default,
// a negative one means no limit.
type Limits struct {
	MaxHeaderBytes int // the whole header block, line endings included
	MaxLineBytes   int // one physical line of the block, its line ending included
	MaxFields      int // the number of fields

	// Exempt, if set, names the fields that count against MaxHeaderBytes
	// and MaxFields apart from the others, each kind within its own limit:
	// the fields a rewrite writes, so that its output, whose own fields
	// are the input's, reads back within the same limits. The name is
	// only valid during the call.
	Exempt func(name []byte) bool
}

func (l Limits) resolve() Limits {
	def := func(v, d int) int {
		switch {
		case v == 0:
			return d
		case v < 0:
			return -1
		}
		return v
	}
	return Limits{
		MaxHeaderBytes: def(l.MaxHeaderBytes, defaultMaxHeaderBytes),
		MaxLineBytes:   def(l.MaxLineBytes, defaultMaxLineBytes),
		MaxFields:      def(l.MaxFields, defaultMaxFields),
		Exempt:         l.Exempt,
	}
}

// Read reads a header block from br, within lim (the zero Limits are the
// defaults), and leaves br at the first body byte it did not need: writing
// the returned Header (AppendTo) and then the rest of br reproduces the
// input exactly. The body bytes it did need, to see where the block ends,
// are the end of Header.Original.
//
// Empty input is refused with ErrEmpty. Input over a limit is refused with
// ErrHeaderTooLarge, ErrLineTooLong or ErrTooManyFields. These come wrapped
// in a *SyntaxError giving the line; a read error other than io.EOF is
// returned as it is.
func Read(br *bufio.Reader, lim Limits) (*Header, error) {
	h := new(Header)
	if err := h.Reset(br, lim); err != nil {
		return nil, err
	}
	return h, nil
}

// Reset reads a new header block from br into h as Read does,
// reusing h's storage. On error h holds no fields.
func (h *Header) Reset(br *bufio.Reader, lim Limits) error {
	lim = lim.resolve()
	if cap(h.spans) == 0 {
		// A first Reset makes room for a usual header at once: growing
		// field by field would allocate a new size of slice each time,
		// and each new size touches fresh memory.
		h.spans = make([]span, 0, firstFields)
		h.fields = make([]Field, 0, firstFields)
	}
	*h = Header{buf: h.buf[:0], fields: h.fields[:0], spans: h.spans[:0], late: h.late[:0]}
	r := reading{br: br, lim: lim, maxBuf: -1}
	if lim.MaxHeaderBytes >= 0 {
		r.maxBuf = lim.MaxHeaderBytes + br.Size()
		if lim.MaxLineBytes >= 0 {
			r.maxBuf += lim.MaxLineBytes
		}
	}
	if err := h.read(&r); err != nil {
		h.fields, h.spans, h.late, h.amb = h.fields[:0], h.spans[:0], h.late[:0], nil
		return err
	}
	return nil
}

// reading is the state of one Reset.
type reading struct {
	br          *bufio.Reader
	lim         Limits
	maxBuf      int
	exemptBytes int  // bytes of the block's exempt fields so far
	exempt      bool // the current field is exempt
	exemptCount int
	lineNo      int
}

func (h *Header) read(r *reading) error {
	var (
		fromEnd   int
		leadStart = -1
		leadEnd   int
		firstEOL  string
		firstCR   bool // the first line has no ending and ends in a bare CR
		fromEOL   string
	)
	for {
		start := len(h.buf)
		r.lineNo++
		first := r.lineNo == 1
		kind, err := h.readLine(r, start, first)
		if err != nil {
			switch err {
			case ErrLineTooLong:
				return &SyntaxError{Line: r.lineNo, Offset: int64(start), Text: cut(h.buf[start:]), Limit: r.lim.MaxLineBytes, Err: err}
			case ErrHeaderTooLarge:
				return &SyntaxError{Line: r.lineNo, Offset: int64(start), Text: cut(h.buf[start:]), Limit: r.lim.MaxHeaderBytes, Err: err}
			case ErrTooManyFields:
				return &SyntaxError{Line: r.lineNo, Offset: int64(start), Text: cut(h.buf[start:]), Limit: r.lim.MaxFields, Err: err}
			}
			return err
		}
		line := h.buf[start:]
		if kind >= lineCont {
			h.noteBareCR(line, r.lineNo, start)
		}
		if first && kind == lineFrom {
			fromEnd = len(h.buf)
			fromEOL = eolOf(line)
			continue
		}
		if leadStart < 0 {
			// The first line after any From line.
			leadStart, leadEnd = start, start
			firstEOL = eolOf(line)
			firstCR = firstEOL == "" && len(line) > 0 && line[len(line)-1] == '\r'
			if first && kind == lineEOF {
				return &SyntaxError{Err: ErrEmpty}
			}
		}
		done := true
		switch kind {
		case lineEOF:
			h.end = EndEOF
		case lineBlank:
			h.end = EndBlank
		case lineBody:
			h.end = EndBody
			if start == leadStart {
				h.noHeader = true
				if firstEOL == "" {
					if firstEOL, err = h.readEOL(r, start); err != nil {
						return err
					}
				}
				h.amb = append(h.amb, noHeaderError(r.lineNo, h.buf[start:]))
			}
		case lineCont:
			done = false
			if len(h.spans) == 0 {
				leadEnd = len(h.buf)
			} else {
				h.spans[len(h.spans)-1].end = len(h.buf)
			}
		case lineField:
			done = false
			name := 0
			for isNameByte(line[name]) {
				name++
			}
			colon := name
			for line[colon] != ':' {
				colon++
			}
			h.spans = append(h.spans, span{start: start, end: len(h.buf), name: name, colon: colon, line: r.lineNo})
		}
		if done {
			h.hdrLen = start
			break
		}
	}
	b := h.buf
	if fromEnd > 0 {
		h.from = b[:fromEnd:fromEnd]
	}
	if leadEnd > leadStart {
		h.lead = b[leadStart:leadEnd:leadEnd]
	}
	for _, s := range h.spans {
		h.fields = append(h.fields, Field{raw: b[s.start:s.end:s.end], name: s.name, colon: s.colon, line: s.line})
	}
	if h.end == EndBody && !h.noHeader {
		if err := h.readLate(r); err != nil {
			return err
		}
		b = h.buf
	}
	h.tail = b[h.hdrLen:]
	switch {
	case firstEOL != "":
		h.eol = firstEOL
	case fromEOL != "" && !firstCR:
		h.eol = fromEOL
	default:
		h.eol = crlf
	}
	return nil
}

// noHeaderError returns the error for a message whose first line (after
// any From line), line, is neither a field nor empty.
func noHeaderError(lineNo int, line []byte) *AmbiguityError {
	if bytes.HasPrefix(line, bom) {
		return &AmbiguityError{Line: lineNo, Err: ErrBOM}
	}
	return &AmbiguityError{Line: lineNo, Err: ErrNoHeader, Detail: fmt.Sprintf("first line is not a field: %q", cut(bytes.TrimRight(line, "\r\n")))}
}

var bom = []byte("\xef\xbb\xbf")

// noteBareCR records the first CR of line not followed by LF.
func (h *Header) noteBareCR(line []byte, lineNo, start int) {
	if i := bareCR(line); i >= 0 {
		text := bytes.TrimSuffix(line, []byte("\n"))
		if len(text) < len(line) {
			text = bytes.TrimSuffix(text, []byte("\r"))
		}
		h.amb = append(h.amb, &AmbiguityError{Line: lineNo, Column: i + 1, Err: ErrBareCR, Detail: fmt.Sprintf("%q", cut(text))})
	}
}

// bareCR returns the index of the first CR in line not followed by LF, or -1.
func bareCR(line []byte) int {
	for i := 0; ; i++ {
		j := bytes.IndexByte(line[i:], '\r')
		if j < 0 {
			return -1
		}
		i += j
		if i+1 == len(line) || line[i+1] != '\n' {
			return i
		}
	}
}

// readLate reads on from the line that ended the block early (already in
// h.buf at h.hdrLen) to the first empty line or the end of input, within
// the limits, and notes the lines that look like fields, which a parser
// reading on to the empty line takes for header fields, and bare CRs.
func (h *Header) readLate(r *reading) error {
	endLine := r.lineNo
	// The line that ended the block was read only as far as needed.
	start := h.hdrLen
	for {
		if line := h.buf[start:]; len(line) > 0 && line[len(line)-1] == '\n' {
			break
		}
		chunk, err := r.br.ReadSlice('\n')
		h.grow(chunk, r.maxBuf)
		if err := h.checkLate(r, start); err != nil {
			return err
		}
		if err == io.EOF {
			break
		}
		if err != nil && err != bufio.ErrBufferFull {
			return err
		}
	}
	endText := h.buf[start:]
	h.noteBareCR(endText, endLine, start)
	why := fmt.Sprintf("which is not a field: %q", cut(bytes.TrimRight(endText, "\r\n")))
	if bytes.HasPrefix(endText, bom) {
		why = "which starts with a UTF-8 BOM"
	}
	h.lateWhy, h.lateLine = fmt.Sprintf("line %d, %s", endLine, why), endLine
	if f, ok := looseField(endText, endLine); ok {
		// The line itself, a field to a lenient parser (8-bit or DEL in
		// the name, say).
		h.late = append(h.late, f)
	}
	for {
		if line := h.buf[start:]; len(line) == 0 || line[len(line)-1] != '\n' {
			return nil // end of input
		}
		start = len(h.buf)
		r.lineNo++
		for {
			chunk, err := r.br.ReadSlice('\n')
			h.grow(chunk, r.maxBuf)
			if err := h.checkLate(r, start); err != nil {
				return err
			}
			if err == nil || err == io.EOF {
				break
			}
			if err != bufio.ErrBufferFull {
				return err
			}
		}
		line := h.buf[start:]
		if len(line) == 0 || string(line) == "\n" || string(line) == "\r\n" {
			return nil // the empty line is the last of the tail
		}
		h.noteBareCR(line, r.lineNo, start)
		if f, ok := looseField(line, r.lineNo); ok {
			h.late = append(h.late, f)
		}
	}
}

// checkLate applies the limits to the lines read after an early end.
func (h *Header) checkLate(r *reading, start int) error {
	lim := r.lim
	switch {
	case lim.MaxLineBytes >= 0 && len(h.buf)-start > lim.MaxLineBytes:
		return &SyntaxError{Line: r.lineNo, Offset: int64(start), Text: cut(h.buf[start:]), Limit: lim.MaxLineBytes, Err: ErrLineTooLong}
	case lim.MaxHeaderBytes >= 0 && len(h.buf)-r.exemptBytes > lim.MaxHeaderBytes:
		return &SyntaxError{Line: r.lineNo, Offset: int64(start), Text: cut(h.buf[start:]), Limit: lim.MaxHeaderBytes, Err: ErrHeaderTooLarge}
	}
	return nil
}

// looseField returns line as a field if any parser may take it for one:
// a name (after any UTF-8 BOM, trimmed of SP and HTAB) of any bytes but
// ':', then ':'.
func looseField(line []byte, lineNo int) (Field, bool) {
	if len(line) == 0 || isWSP(line[0]) {
		return Field{}, false
	}
	line = bytes.TrimPrefix(line, bom)
	for len(line) > 0 && isWSP(line[0]) {
		line = line[1:]
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return Field{}, false
	}
	name := colon
	for name > 0 && isWSP(line[name-1]) {
		name--
	}
	if name == 0 {
		return Field{}, false
	}
	return Field{raw: line, name: name, colon: colon, line: lineNo}, true
}

type lineKind int

const (
	lineEOF   lineKind = iota // no bytes before end of input
	lineBlank                 // "\n" or "\r\n"
	lineBody                  // neither field nor continuation: ends the block
	lineCont                  // starts with SP or HTAB
	lineField                 // name, optional WSP, colon
	lineFrom                  // "From " on the first line
)

// readLine appends the next line to h.buf, starting at start, and says what
// it is. A header line (field, continuation, From) is read whole, within the
// limits; a line that ends the block is read only as far as needed to tell.
func (h *Header) readLine(r *reading, start int, first bool) (lineKind, error) {
	var kind lineKind
	decided := false
	lim := r.lim
	exempt := false
	for {
		chunk, err := r.br.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull && err != io.EOF {
			return 0, err
		}
		h.grow(chunk, r.maxBuf)
		line := h.buf[start:]
		complete := err != bufio.ErrBufferFull
		if !decided {
			kind, decided = classify(line, complete, first)
			if decided {
				switch kind {
				case lineBlank, lineBody:
					if lim.MaxLineBytes >= 0 && len(line) > lim.MaxLineBytes {
						// Decided only past the limit: whatever the buffer size, too long.
						if _, ok := classify(line[:lim.MaxLineBytes], false, first); !ok {
							return 0, ErrLineTooLong
						}
					}
					return kind, nil
				case lineField:
					name := 0
					for isNameByte(line[name]) {
						name++
					}
					r.exempt = lim.Exempt != nil && lim.Exempt(line[:name])
					count := len(h.spans) - r.exemptCount
					if r.exempt {
						count = r.exemptCount
					}
					if lim.MaxFields >= 0 && count >= lim.MaxFields {
						return 0, ErrTooManyFields
					}
					if r.exempt {
						r.exemptCount++
					}
				case lineFrom:
					r.exempt = false
				}
				exempt = r.exempt && kind != lineFrom
			}
		}
		if lim.MaxLineBytes >= 0 && len(line) > lim.MaxLineBytes {
			return 0, ErrLineTooLong
		}
		if lim.MaxHeaderBytes >= 0 {
			own, ex := len(h.buf)-r.exemptBytes, r.exemptBytes
			if exempt {
				own, ex = start-r.exemptBytes, ex+len(line)
			}
			if own > lim.MaxHeaderBytes || ex > lim.MaxHeaderBytes {
				return 0, ErrHeaderTooLarge
			}
		}
		if complete {
			if exempt {
				r.exemptBytes += len(line)
			}
			return kind, nil
		}
	}
}

// readEOL reads on in a body line that ended the block until its line
// ending, within the limits of the block (the line is held in memory),
// and returns that ending or "" at the end of input.
func (h *Header) readEOL(r *reading, start int) (string, error) {
	for {
		line := h.buf[start:]
		if line[len(line)-1] == '\n' {
			return eolOf(line), nil
		}
		if lim := r.lim; lim.MaxHeaderBytes >= 0 && len(line) > max(lim.MaxHeaderBytes, lim.MaxLineBytes) {
			return "", &SyntaxError{Line: r.lineNo, Offset: int64(start), Text: cut(line), Err: fmt.Errorf("%w: the first line's ending, which new lines take, is past the block limit", ErrLineTooLong)}
		}
		chunk, err := r.br.ReadSlice('\n')
		h.grow(chunk, r.maxBuf)
		switch err {
		case nil, bufio.ErrBufferFull:
		case io.EOF:
			return "", nil
		default:
			return "", err
		}
	}
}

// The room a Header makes on its first use: most header blocks fit, so
// reading one allocates three times. make, unlike append, leaves fresh
// memory untouched until it is written, so the unused part costs nothing.
const (
	firstBuf    = 8 << 10
	firstFields = 64
)

// grow appends c to h.buf, growing it no further than limit (if positive)
// unless it must.
func (h *Header) grow(c []byte, limit int) {
	if need := len(h.buf) + len(c); need > cap(h.buf) {
		n := max(2*cap(h.buf), firstBuf)
		if limit > 0 && n > limit {
			n = limit
		}
		if n < need {
			n = need
		}
		nb := make([]byte, len(h.buf), n)
		copy(nb, h.buf)
		h.buf = nb
	}
	h.buf = append(h.buf, c...)
}

// classify says what line (possibly incomplete) is, and whether that is
// decided by the bytes seen so far.
func classify(b []byte, complete, first bool) (lineKind, bool) {
	if len(b) == 0 {
		return lineEOF, complete
	}
	switch b[0] {
	case '\n':
		return lineBlank, true
	case '\r':
		if len(b) == 1 {
			return lineBody, complete
		}
		if b[1] == '\n' {
			return lineBlank, true
		}
		return lineBody, true
	case ' ', '\t':
		return lineCont, true
	}
	if first {
		const from = "From "
		n := min(len(b), len(from))
		if string(b[:n]) == from[:n] {
			if n == len(from) {
				return lineFrom, true
			}
			if !complete {
				return 0, false
			}
		}
	}
	i := 0
	for i < len(b) && isNameByte(b[i]) {
		i++
	}
	if i == 0 {
		return lineBody, true
	}
	for i < len(b) && isWSP(b[i]) {
		i++
	}
	if i == len(b) {
		return lineBody, complete
	}
	if b[i] == ':' {
		return lineField, true
	}
	return lineBody, true
}
