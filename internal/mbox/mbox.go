// Package mbox finds the start of a second message in an mbox file: a line
// starting with "From " right after an empty line.
package mbox

import (
	"bytes"

	"github.com/sesmime/sesmime/internal/headerblock"
)

// Error returns the error for an envelope line found at line.
func Error(line int) error {
	return &headerblock.AmbiguityError{Line: line, Err: headerblock.ErrMbox,
		Detail: `a second "From " line after an empty line (SES takes one message per file: split the mbox, e.g. with formail -s)`}
}

// For returns a Scanner for the rest of the message whose header h is, or
// nil if the message does not start with a "From " line. The bytes Read
// consumed after the block are scanned already. blank says an empty
// line is put before them (fields added to a message without a header).
func For(h *headerblock.Header, blank bool) *Scanner {
	if !bytes.HasPrefix(h.Original(), []byte("From ")) {
		return nil
	}
	s := &Scanner{Line: bytes.Count(h.Original()[:h.Len()], []byte("\n")) + 1}
	s.prevBlank = blank
	s.Write(h.Original()[h.Len():])
	return s
}

// Err returns Error(s.Found) if s found an envelope line, else nil. A nil s
// finds nothing.
func (s *Scanner) Err() error {
	if s == nil || s.Found == 0 {
		return nil
	}
	return Error(s.Found)
}

// A Scanner is an io.Writer that watches the bytes written to it, the part
// of a message after its header block, for an envelope line ("From " at
// the start of a line that follows an empty line). The zero value starts at
// line 1 just after a complete line.
type Scanner struct {
	// Line is the 1-based line number of the first byte written; Found is
	// the line of the first envelope line seen, or 0.
	Line, Found int

	head      [5]byte // the current line's first bytes
	n         int     // length of the current line so far
	prevBlank bool    // the line before the current one is empty
}

// Write scans p. It never fails.
func (s *Scanner) Write(p []byte) (int, error) {
	n := len(p)
	if s.Line == 0 {
		s.Line = 1
	}
	for len(p) > 0 && s.Found == 0 {
		i := bytes.IndexByte(p, '\n')
		seg := p
		if i >= 0 {
			seg = p[:i+1]
		}
		if s.n < len(s.head) {
			k := copy(s.head[s.n:], seg)
			if s.prevBlank && s.n+k == len(s.head) && string(s.head[:]) == "From " {
				s.Found = s.Line
			}
		}
		s.n += len(seg)
		if i < 0 {
			break
		}
		s.prevBlank = s.n == 1 || s.n == 2 && s.head[0] == '\r'
		s.n = 0
		s.Line++
		p = p[i+1:]
	}
	return n, nil
}
