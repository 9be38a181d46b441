package mimeheaders

import (
	"errors"
	"fmt"
)

// Errors wrapped by a *SyntaxError from Read, or returned by Header.NewField.
var (
	ErrEmpty          = errors.New("mimeheaders: empty message")
	ErrHeaderTooLarge = errors.New("mimeheaders: header block too large")
	ErrLineTooLong    = errors.New("mimeheaders: header line too long")
	ErrTooManyFields  = errors.New("mimeheaders: too many header fields")
	ErrInvalidName    = errors.New("mimeheaders: invalid field name")
	ErrInvalidValue   = errors.New("mimeheaders: invalid field value")
	ErrCannotFold     = errors.New("mimeheaders: field cannot be folded within 998 bytes per line")
)

// A SyntaxError reports input that Read refuses, at a line of the message.
type SyntaxError struct {
	Line   int    // 1-based line of the message (an mbox "From " line is line 1)
	Offset int64  // byte offset of the start of that line
	Text   string // the start of the offending line, cut to 80 bytes
	Err    error  // ErrEmpty, ErrHeaderTooLarge, ErrLineTooLong, ErrTooManyFields
}

func (e *SyntaxError) Error() string {
	if e.Text == "" {
		return fmt.Sprintf("line %d (offset %d): %v", e.Line, e.Offset, e.Err)
	}
	return fmt.Sprintf("line %d (offset %d): %v: %q", e.Line, e.Offset, e.Err, e.Text)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// A FieldError reports a name or value that Header.NewField refuses.
type FieldError struct {
	Name   string // the field name as given
	Offset int    // byte offset of the first bad byte in the name or value, -1 if none
	Err    error  // ErrInvalidName, ErrInvalidValue or ErrCannotFold
}

func (e *FieldError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("%v: %q", e.Err, e.Name)
	}
	return fmt.Sprintf("%v: %q: byte %d", e.Err, e.Name, e.Offset)
}

func (e *FieldError) Unwrap() error { return e.Err }

func cut(b []byte) string {
	if len(b) > 80 {
		b = b[:80]
	}
	return string(b)
}
