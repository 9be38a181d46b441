package mimeheaders

import (
	"bufio"

	"github.com/sesmime/sesmime/internal/headerblock"
)

// Limits bounds what Read holds in memory. A zero field means its default
// (1 MiB block, 64 KiB line, 20,000 fields), a negative one no limit.
type Limits = headerblock.Limits

// A SyntaxError reports a header block that is refused, at a line (and,
// where one byte is at fault, a column) of the message: "line 7: header
// line is longer than 65,536 bytes: "aaaa…"". Its Err is one of the Err*
// sentinels.
type SyntaxError = headerblock.SyntaxError

// Errors wrapped by a *SyntaxError from Read.
var (
	ErrEmpty = headerblock.ErrEmpty // the input is empty
	// ErrHeaderTooLarge: the header block is over one of the Limits; the
	// error's text names which, and SyntaxError.Limit is its value.
	ErrHeaderTooLarge = headerblock.ErrHeaderTooLarge
)

// A Header is a header block as Read read it.
type Header struct {
	h      *headerblock.Header
	fields []Field
}

// A Field is one header field: a start line and its continuation lines,
// with their exact bytes and line endings.
type Field headerblock.Field

// Read reads a header block from br, within lim, and leaves br at the
// first body byte it did not need to see where the block ends. Empty input
// is refused with ErrEmpty, input over a limit with ErrHeaderTooLarge,
// each in a *SyntaxError; a read error
// other than io.EOF is returned as it is.
func Read(br *bufio.Reader, lim Limits) (*Header, error) {
	h, err := headerblock.Read(br, lim)
	if err != nil {
		return nil, err
	}
	fs := h.Fields()
	out := &Header{h: h, fields: make([]Field, len(fs))}
	for i, f := range fs {
		out.fields[i] = Field(f)
	}
	return out, nil
}

// Fields returns the fields in order. The slice is shared with h.
func (h *Header) Fields() []Field { return h.fields }

// Values returns the unfolded values of the fields named name, in order,
// matching the name ignoring ASCII case.
func (h *Header) Values(name string) []string { return h.h.Values(name) }

// Bytes returns every byte Read consumed: the header block as it was read,
// then the start of the body that Read had to see to find where the block
// ends. Bytes followed by the rest of the reader is the message. The
// caller must not modify them.
func (h *Header) Bytes() []byte { return h.h.Original() }

// Name returns the field name as written, without whitespace before the
// colon.
func (f Field) Name() string { return headerblock.Field(f).Name() }

// Is reports whether the field's name equals name, ignoring ASCII case.
func (f Field) Is(name string) bool { return headerblock.Field(f).Is(name) }

// Value returns the field body after the colon, unfolded (line breaks
// removed) and trimmed of leading and trailing SP and HTAB. Other bytes,
// including a CR without LF, 8-bit bytes and NUL, are kept.
func (f Field) Value() string { return headerblock.Field(f).Value() }

// Raw returns the field's exact bytes, including folding and line endings.
// The caller must not modify them.
func (f Field) Raw() []byte { return headerblock.Field(f).Raw() }

// Line returns the 1-based line of the message the field starts on (an
// mbox "From " line is line 1).
func (f Field) Line() int { return headerblock.Field(f).Line() }
