package mimeheaders

import (
	"bufio"
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
	*h = Header{buf: h.buf[:0], fields: h.fields[:0], spans: h.spans[:0]}
	maxBuf := -1
	if lim.MaxHeaderBytes >= 0 {
		maxBuf = lim.MaxHeaderBytes + br.Size()
		if lim.MaxLineBytes >= 0 {
			maxBuf += lim.MaxLineBytes
		}
	}
	var (
		fromEnd   int
		leadStart = -1
		leadEnd   int
		firstEOL  string
		firstCR   bool // the first line has no ending and ends in a bare CR
		fromEOL   string
		lineNo    int
	)
	for {
		start := len(h.buf)
		lineNo++
		first := lineNo == 1
		kind, err := h.readLine(br, lim, maxBuf, start, first)
		if err != nil {
			h.fields, h.spans = h.fields[:0], h.spans[:0]
			switch err {
			case ErrLineTooLong:
				return &SyntaxError{Line: lineNo, Offset: int64(start), Text: cut(h.buf[start:]), Limit: lim.MaxLineBytes, Err: err}
			case ErrHeaderTooLarge:
				return &SyntaxError{Line: lineNo, Offset: int64(start), Text: cut(h.buf[start:]), Limit: lim.MaxHeaderBytes, Err: err}
			}
			return err
		}
		line := h.buf[start:]
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
					if firstEOL, err = h.readEOL(br, lim, maxBuf, start); err != nil {
						h.fields, h.spans = h.fields[:0], h.spans[:0]
						return err
					}
				}
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
			if lim.MaxFields >= 0 && len(h.spans) >= lim.MaxFields {
				h.spans = h.spans[:0]
				return &SyntaxError{Line: lineNo, Offset: int64(start), Text: cut(line), Limit: lim.MaxFields, Err: ErrTooManyFields}
			}
			name := 0
			for isNameByte(line[name]) {
				name++
			}
			colon := name
			for line[colon] != ':' {
				colon++
			}
			h.spans = append(h.spans, span{start: start, end: len(h.buf), name: name, colon: colon, line: lineNo})
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
func (h *Header) readLine(br *bufio.Reader, lim Limits, maxBuf, start int, first bool) (lineKind, error) {
	var kind lineKind
	decided := false
	for {
		chunk, err := br.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull && err != io.EOF {
			return 0, err
		}
		h.grow(chunk, maxBuf)
		line := h.buf[start:]
		complete := err != bufio.ErrBufferFull
		if !decided {
			kind, decided = classify(line, complete, first)
			if decided && (kind == lineBlank || kind == lineBody) {
				return kind, nil
			}
		}
		if lim.MaxLineBytes >= 0 && len(line) > lim.MaxLineBytes {
			return 0, ErrLineTooLong
		}
		if lim.MaxHeaderBytes >= 0 && len(h.buf) > lim.MaxHeaderBytes {
			return 0, ErrHeaderTooLarge
		}
		if complete {
			return kind, nil
		}
	}
}

// readEOL reads on in a body line that ended the block until its line ending,
// as far as MaxLineBytes (and never more than defaultMaxLineBytes) allows,
// and returns that ending or "".
func (h *Header) readEOL(br *bufio.Reader, lim Limits, maxBuf, start int) (string, error) {
	limit := defaultMaxLineBytes
	if lim.MaxLineBytes >= 0 && lim.MaxLineBytes < limit {
		limit = lim.MaxLineBytes
	}
	for {
		line := h.buf[start:]
		if line[len(line)-1] == '\n' {
			return eolOf(line), nil
		}
		if len(line) >= limit {
			return "", nil
		}
		chunk, err := br.ReadSlice('\n')
		h.grow(chunk, maxBuf)
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
