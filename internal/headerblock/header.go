package headerblock

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// Line endings a Header writes new lines with.
const (
	crlf = "\r\n"
	lf   = "\n"
)

// maxLineLength is the longest line, without its ending, that NewField
// writes (RFC 5322 section 2.1.1).
const maxLineLength = 998

// End says what ended a header block.
type End int

const (
	// EndEOF: the input ended inside the block or right after it.
	EndEOF End = iota
	// EndBlank: an empty line ended the block; it is the first line of the body.
	EndBlank
	// EndBody: a line that is neither a field nor a continuation ended the
	// block; it is the first line of the body.
	EndBody
)

func (e End) String() string {
	switch e {
	case EndEOF:
		return "end of input"
	case EndBlank:
		return "empty line"
	case EndBody:
		return "non-field line"
	}
	return "End(?)"
}

// A Field is one header field: a start line and its continuation lines,
// with their exact bytes and line endings.
type Field struct {
	raw   []byte
	name  int // length of the name
	colon int // index of the ':'
	line  int // 1-based line in the message; 0 for a field made by NewField
}

// Name returns the field name as written, without whitespace before the colon.
func (f Field) Name() string { return string(f.raw[:f.name]) }

// Is reports whether the field's name equals name, ignoring ASCII case.
func (f Field) Is(name string) bool { return equalFold(f.raw[:f.name], name) }

// HasPrefix reports whether the field's name starts with prefix, ignoring
// ASCII case.
func (f Field) HasPrefix(prefix string) bool {
	return f.name >= len(prefix) && equalFold(f.raw[:len(prefix)], prefix)
}

// Value returns the field body after the colon, unfolded (line breaks
// removed) and trimmed of leading and trailing SP and HTAB. Other bytes,
// including a bare CR, 8-bit bytes and NUL, are kept.
func (f Field) Value() string {
	v := f.raw[f.colon+1:]
	var sb strings.Builder
	sb.Grow(len(v))
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\n':
			continue
		case v[i] == '\r' && i+1 < len(v) && v[i+1] == '\n':
			continue
		}
		sb.WriteByte(v[i])
	}
	return strings.Trim(sb.String(), " \t")
}

// Raw returns the field's exact bytes, including folding and line endings.
// The caller must not modify them.
func (f Field) Raw() []byte { return f.raw }

// Line returns the 1-based line of the message the field starts on (an mbox
// "From " line is line 1), or 0 for a field made by NewField.
func (f Field) Line() int { return f.line }

// ValuePos returns the line of the message and the 1-based column on it
// of byte i of f.Value(), or f.Line() and 0 if there is no such byte.
func (f Field) ValuePos(i int) (line, col int) {
	raw := f.Raw()
	colon := bytes.IndexByte(raw, ':')
	// Value drops line breaks, then trims SP and HTAB at both ends.
	k, lead := 0, true // k: bytes Value keeps, lead: still in the leading blanks
	line, start := f.Line(), 0
	for j := colon + 1; j < len(raw); j++ {
		c := raw[j]
		if c == '\n' || c == '\r' && j+1 < len(raw) && raw[j+1] == '\n' {
			if c == '\n' {
				line, start = line+1, j+1
			}
			continue
		}
		if lead && (c == ' ' || c == '\t') {
			continue
		}
		lead = false
		if k == i {
			return line, j - start + 1
		}
		k++
	}
	return f.Line(), 0
}

// A Header is a header block as read by Read, and what to write in its place.
// Its fields can be replaced with SetFields; everything else is written
// back as it was read.
type Header struct {
	buf      []byte // all bytes Read consumed: the block, then the tail
	hdrLen   int    // length of the block within buf
	from     []byte
	lead     []byte
	fields   []Field
	spans    []span
	tail     []byte
	end      End
	noHeader bool
	eol      string
	late     []Field           // field-like lines after an early end, before the empty line
	lateWhy  string            // the line that ended the block early, for ErrLateField
	lateLine int               // its line number
	amb      []*AmbiguityError // no header, bare CRs
}

type span struct{ start, end, name, colon, line int }

// Fields returns the fields in order. The slice is shared with h: change
// the header with SetFields, not by writing to it.
func (h *Header) Fields() []Field { return h.fields }

// SetFields replaces the fields h writes. Fields may come from h itself, in
// any order, or from NewField.
func (h *Header) SetFields(fs []Field) { h.fields = fs }

// Values returns the unfolded values of the fields named name, in order,
// matching the name ignoring ASCII case.
func (h *Header) Values(name string) []string {
	var vs []string
	for _, f := range h.fields {
		if f.Is(name) {
			vs = append(vs, f.Value())
		}
	}
	return vs
}

// End says what ended the block.
func (h *Header) End() End { return h.end }

// NoHeader reports whether the message had no header block at all: its first
// line (after any "From " line) was neither a field, a continuation nor an
// empty line. Writing fields into such a header adds an empty line after them.
func (h *Header) NoHeader() bool { return h.noHeader }

// Late returns the lines from a line that ended the block early (End is
// EndBody and NoHeader false; that line included), up to the first empty
// line, that a parser
// reading on to that empty line may take for fields: a name of any bytes
// but ':' (after any UTF-8 BOM, trimmed of SP and HTAB), then ':'. Each
// Field's Raw starts at its name. They are part of Tail and never written
// as fields.
func (h *Header) Late() []Field { return h.late }

// Ambiguities returns, in line order, what other parsers may read
// differently from Read: an *AmbiguityError wrapping ErrNoHeader or ErrBOM
// for a message without a header block; ErrBareCR for each line with a CR
// not followed by LF, in the block or among the lines Late looks at (the
// line that ended the block early included); and ErrLateField for each Late
// field that late reports true for. It allocates only when there is one.
func (h *Header) Ambiguities(late func(Field) bool) []*AmbiguityError {
	var out []*AmbiguityError
	if late != nil {
		for _, f := range h.late {
			if !late(f) {
				continue
			}
			d := fmt.Sprintf("%s follows %s", f.Name(), h.lateWhy)
			if f.line == h.lateLine {
				d = fmt.Sprintf("%q ends the block for sesmime, but other parsers may read it as a field", cut(f.raw[:len(f.raw)-len(eolOf(f.raw))]))
			}
			out = append(out, &AmbiguityError{Line: f.line, Err: ErrLateField, Detail: d})
		}
	}
	if len(out) == 0 {
		return h.amb
	}
	out = append(out, h.amb...)
	slices.SortStableFunc(out, func(a, b *AmbiguityError) int { return a.Line - b.Line })
	return out
}

// Original returns every byte Read consumed: the block as it was read
// (the first Len bytes), followed by the start of the body that Read had
// to see to find where the block ends.
func (h *Header) Original() []byte { return h.buf }

// Len returns the length of the header block as it was read: Original
// without the body bytes that follow.
func (h *Header) Len() int { return h.hdrLen }

// AppendTo appends the header as it is now, followed by the body bytes
// Read consumed (Original()[Len():]), to b and
// returns the extended slice. Unless SetFields was called, that is exactly
// Original.
//
// A line that ends the input without a line ending gets the message's
// line ending when something is written after it. If the message had no header (see NoHeader) and now
// has fields, an empty line follows them.
func (h *Header) AppendTo(b []byte) []byte {
	open := false // the last piece written has no line ending
	put := func(p []byte) {
		if len(p) == 0 {
			return
		}
		if open {
			b = append(b, h.eol...)
		}
		b = append(b, p...)
		open = p[len(p)-1] != '\n'
	}
	put(h.from)
	put(h.lead)
	for _, f := range h.fields {
		put(f.raw)
	}
	if h.noHeader && len(h.fields) > 0 {
		if open {
			b = append(b, h.eol...)
		}
		b = append(b, h.eol...)
		open = false
	}
	put(h.tail)
	return b
}

// NewField returns a field named name with value, ending in h's line
// ending, for use with SetFields. The name must be bytes in 33..126 other
// than ':'; the value printable ASCII (32..126) or HTAB. A line longer than
// maxLineLength is folded before a SP or HTAB that follows a non-blank byte
// (never inside a token); a value that cannot be folded so is refused.
// Errors are *FieldError.
func (h *Header) NewField(name, value string) (Field, error) {
	eol := h.eol
	if eol == "" {
		eol = crlf
	}
	raw := make([]byte, 0, len(name)+2+len(value)+len(eol)*(1+len(value)/maxLineLength))
	_, f, err := h.AppendField(raw, name, value)
	return f, err
}

// AppendField is NewField writing the field's bytes into dst: it appends
// them to dst and returns the extended slice and the Field, whose bytes are
// that part of the returned slice (so they stay valid until the caller
// overwrites them). Reusing dst lets a caller make fields without
// allocating. On error dst is returned unchanged.
func (h *Header) AppendField(dst []byte, name, value string) ([]byte, Field, error) {
	if name == "" {
		return dst, Field{}, &FieldError{Name: name, Value: value, Err: ErrInvalidName}
	}
	for i := 0; i < len(name); i++ {
		if !isNameByte(name[i]) {
			return dst, Field{}, &FieldError{Name: name, Value: value, Column: i + 1, Err: ErrInvalidName}
		}
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; (c < 32 || c > 126) && c != '\t' {
			return dst, Field{}, &FieldError{Name: name, Value: value, Column: i + 1, Err: ErrInvalidValue}
		}
	}
	if len(name)+1 > maxLineLength {
		return dst, Field{}, &FieldError{Name: name, Value: value, Err: ErrCannotFold}
	}
	eol := h.eol
	if eol == "" {
		eol = crlf
	}
	base := len(dst)
	raw := append(dst, name...)
	raw = append(raw, ':')
	if value != "" {
		raw = append(raw, ' ')
	}
	lineStart := base // index in raw of the current line's start
	brk := -1         // index in raw of the last place a fold may go
	for i := 0; i < len(value); i++ {
		c := value[i]
		if (c == ' ' || c == '\t') && i > 0 && !isWSP(value[i-1]) && i+1 < len(value) && !isWSP(value[i+1]) {
			brk = len(raw)
		}
		raw = append(raw, c)
		if len(raw)-lineStart > maxLineLength {
			if brk <= lineStart {
				return dst, Field{}, &FieldError{Name: name, Value: value, Err: ErrCannotFold}
			}
			// Open a gap of len(eol) bytes at brk and put eol in it.
			raw = append(raw, eol...)
			copy(raw[brk+len(eol):], raw[brk:len(raw)-len(eol)])
			copy(raw[brk:], eol)
			lineStart = brk + len(eol)
			brk = -1
		}
	}
	raw = append(raw, eol...)
	return raw, Field{raw: raw[base:len(raw):len(raw)], name: len(name), colon: len(name)}, nil
}

func isNameByte(c byte) bool { return c > 32 && c < 127 && c != ':' }

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func eolOf(line []byte) string {
	switch {
	case bytes.HasSuffix(line, []byte(crlf)):
		return crlf
	case bytes.HasSuffix(line, []byte(lf)):
		return lf
	}
	return ""
}
