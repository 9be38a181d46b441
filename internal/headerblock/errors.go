package headerblock

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors wrapped by a *SyntaxError from Read, or by a *FieldError from
// Header.AppendField. ErrLineTooLong and ErrTooManyFields also match
// ErrHeaderTooLarge, the one limit error the public packages name.
var (
	ErrEmpty          = errors.New("empty message")
	ErrHeaderTooLarge = errors.New("header too large")
	ErrLineTooLong    = &limitError{"header line too long"}
	ErrTooManyFields  = &limitError{"too many header fields"}
	ErrInvalidName    = errors.New("invalid field name")
	ErrInvalidValue   = errors.New("invalid field value")
	ErrCannotFold     = errors.New("field cannot be folded within 998 bytes per line")
)

// A limitError is a limit error that also matches ErrHeaderTooLarge.
type limitError struct{ text string }

func (e *limitError) Error() string { return e.text }

func (e *limitError) Is(target error) bool { return target == ErrHeaderTooLarge }

// A SyntaxError reports input that Read refuses, at a line of the message.
// Its text reads "line 7: header line is longer than 65,536 bytes: "aaaa…"".
type SyntaxError struct {
	Line   int    // 1-based line of the message (an mbox "From " line is line 1); 0 for ErrEmpty
	Column int    // 1-based byte of the line at fault, or 0 when the whole line is
	Offset int64  // byte offset of the start of that line in the message
	Text   string // the start of the offending line, cut to 80 bytes
	Limit  int    // for a limit error, the limit exceeded
	Err    error  // ErrEmpty, ErrHeaderTooLarge, ErrLineTooLong, ErrTooManyFields
}

func (e *SyntaxError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteString(", column ")
			b.WriteString(strconv.Itoa(e.Column))
		}
		b.WriteString(": ")
	}
	switch {
	case e.Limit > 0 && e.Err == ErrTooManyFields:
		fmt.Fprintf(&b, "header has more than %s fields", thousands(e.Limit))
	case e.Limit > 0 && e.Err == ErrLineTooLong:
		fmt.Fprintf(&b, "header line is longer than %s bytes", thousands(e.Limit))
	case e.Limit > 0 && e.Err == ErrHeaderTooLarge:
		fmt.Fprintf(&b, "header is larger than %s bytes", thousands(e.Limit))
	default:
		fmt.Fprint(&b, e.Err)
	}
	if e.Text != "" {
		fmt.Fprintf(&b, ": %q", e.Text)
	}
	return b.String()
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// A FieldError reports a name or value that Header.AppendField refuses.
type FieldError struct {
	Name   string // the field name as given
	Value  string // the field value as given
	Column int    // 1-based byte of the name or value at fault, 0 if none
	Err    error  // ErrInvalidName, ErrInvalidValue or ErrCannotFold
}

func (e *FieldError) Error() string {
	switch {
	case e.Err == ErrInvalidName && e.Column > 0:
		return fmt.Sprintf("%v %q: %q is not allowed", e.Err, e.Name, e.Name[e.Column-1:e.Column])
	case e.Err == ErrInvalidValue && e.Column > 0:
		return fmt.Sprintf("field %s: %v: %q is not allowed", e.Name, e.Err, e.Value[e.Column-1:e.Column])
	case e.Err == ErrInvalidName:
		return fmt.Sprintf("%v %q", e.Err, e.Name)
	}
	return fmt.Sprintf("field %s: %v", e.Name, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

func cut(b []byte) string {
	if len(b) > 80 {
		b = b[:80]
	}
	return string(b)
}

// thousands formats n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Errors wrapped by an *AmbiguityError: the reasons other parsers may read
// a header block differently from Read (see Header.Ambiguities).
var (
	ErrNoHeader  = errors.New("no header block")
	ErrBOM       = fmt.Errorf("%w: starts with a UTF-8 BOM", ErrNoHeader)
	ErrBareCR    = errors.New("CR without LF in the header")
	ErrLateField = errors.New("field after the end of the header block")
	ErrMbox      = errors.New("several messages in one file")
)

// An AmbiguityError reports a message whose header other parsers read
// differently from Read: with no header block (ErrNoHeader, ErrBOM), with
// a CR not followed by LF (ErrBareCR), with a field after a line that ended
// the block early (ErrLateField), or holding several mbox messages (ErrMbox).
type AmbiguityError struct {
	Line   int    // 1-based line of the message (an mbox "From " line is line 1)
	Column int    // 1-based byte of the line (ErrBareCR), or 0
	Err    error  // ErrNoHeader, ErrBOM, ErrBareCR, ErrLateField or ErrMbox
	Detail string // what and where, e.g. `first line is not a field: "hello"`
}

func (e *AmbiguityError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("line %d, %s", e.Line, e.Reason())
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason())
}

// Reason returns the error's text without its line, as sesmime check
// reports it at that line: a column (if any), Err and Detail.
func (e *AmbiguityError) Reason() string {
	s := e.Err.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Column > 0 {
		s = fmt.Sprintf("column %d: %s", e.Column, s)
	}
	return s
}

func (e *AmbiguityError) Unwrap() error { return e.Err }
