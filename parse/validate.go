package parse

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sesmime/sesmime/internal/sesfield"
)

// SES limits on names and values.
const (
	maxConfigurationSetLen = 64
	maxTagLen              = 256
)

// Errors wrapped by a *ValueError: which kind of value SES would refuse.
var (
	ErrInvalidConfigurationSet = errors.New("invalid configuration set")
	ErrInvalidTag              = errors.New("invalid tag")
	ErrInvalidHeader           = errors.New("invalid tag header")
)

// A ValueError reports a configuration set, tag or tag header that SES
// would refuse or silently ignore. Its text names the value and what is
// wrong with it, after its place in the message if it is in one:
// `line 3, column 24: invalid tag value "a.b": "." is not allowed`.
type ValueError struct {
	// Line is the 1-based line of the message the value is on, 0 for a
	// value that is not in a message (an option, or a string checked by
	// a Validate function or ParseTags).
	Line int
	// Column is the 1-based byte at fault: of line Line when it is set,
	// else of the string checked. It is 0 when the value's length, or a
	// name as a whole, is at fault.
	Column int
	Value  string // the name or value at fault
	Err    error  // ErrInvalidConfigurationSet, ErrInvalidTag or ErrInvalidHeader

	what string // what the value is, as the text says: "invalid tag value", "reserved tag name"...
	why  string // what is wrong with it
}

// Error returns the text, its place in the message first if it has one.
func (e *ValueError) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.text())
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.text())
	}
	return e.text()
}

// text returns the error's text without its place in the message.
func (e *ValueError) text() string {
	what := e.what
	if what == "" {
		what = e.Err.Error()
	}
	if e.Value == "" && e.why == "" {
		return what + ": empty"
	}
	why := e.why
	if why == "" {
		why = "not allowed"
	}
	return fmt.Sprintf("%s %s: %s", what, quote(e.Value), why)
}

// Unwrap returns Err.
func (e *ValueError) Unwrap() error { return e.Err }

// The kinds of value a ValueError is about, as its text names them.
const (
	whatConfigurationSet = "invalid configuration set"
	whatTagName          = "invalid tag name"
	whatReservedTagName  = "reserved tag name"
	whatTagValue         = "invalid tag value"
	whatMalformedTag     = "malformed tag"
	whatHeaderName       = "invalid header name"
	whatReservedHeader   = "reserved header name"
	whatHeaderValue      = "invalid header value"
)

// isWhat reports whether err is a *ValueError about a value of the kind
// what.
func isWhat(err error, what string) bool {
	ve, ok := errors.AsType[*ValueError](err)
	return ok && ve.what == what
}

// valueError returns a *ValueError about s, a value of the kind what
// wrapping sentinel, with byte col (1-based, 0 for none) at fault, or its
// length over max when max > 0.
func valueError(sentinel error, what, s string, col, max int) *ValueError {
	e := &ValueError{Value: s, Column: col, Err: sentinel, what: what}
	switch {
	case col > 0 && col <= len(s):
		e.why = fmt.Sprintf("%q is not allowed", s[col-1:col])
	case s == "":
	case max > 0:
		e.why = fmt.Sprintf("longer than %d bytes", max)
	}
	return e
}

// quote returns s quoted, cut to 64 bytes.
func quote(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%q...", s[:64])
	}
	return fmt.Sprintf("%q", s)
}

// A Tag is one SES message tag.
type Tag struct {
	Name  string
	Value string
}

// String returns the tag as "name=value".
func (t Tag) String() string { return t.Name + "=" + t.Value }

// A TagHeader is a custom tag header: a field whose value SES can publish
// as a CloudWatch dimension named after the field. It is not the header
// block of a message (mimeheaders.Header).
type TagHeader struct {
	Name  string
	Value string
}

// ValidateConfigurationSet reports whether name is a valid configuration set
// name: 1 to 64 bytes of A-Z, a-z, 0-9, '_' and '-'.
func ValidateConfigurationSet(name string) error {
	return checkToken(name, maxConfigurationSetLen, "", ErrInvalidConfigurationSet, whatConfigurationSet)
}

// ValidateTag reports whether t can be sent to SES: name and value 1 to 256
// bytes of A-Z, a-z, 0-9, '_' and '-'; the only names with ':' allowed are
// ses:feedback-id-a and ses:feedback-id-b. '.' and '@' are refused in
// values: SES has rejected them in at least one documented case.
func ValidateTag(t Tag) error {
	if strings.Contains(t.Name, ":") {
		if t.Name != "ses:feedback-id-a" && t.Name != "ses:feedback-id-b" {
			e := valueError(ErrInvalidTag, whatReservedTagName, t.Name, strings.IndexByte(t.Name, ':')+1, 0)
			e.why = `only ses:feedback-id-a and ses:feedback-id-b may contain ":"`
			return e
		}
	} else if err := checkToken(t.Name, maxTagLen, "", ErrInvalidTag, whatTagName); err != nil {
		return err
	}
	return checkToken(t.Value, maxTagLen, "", ErrInvalidTag, whatTagValue)
}

// ValidateHeader reports whether h can be written as a custom tag header:
// a name of A-Z, a-z, 0-9, '_' and '-' that is not reserved, and a value of
// A-Z, a-z, 0-9, '_', '@', '.' and '-' that fits with its name on one line
// of 998 bytes. Reserved, ignoring case, are X-SES-*, Content-*, Resent-*
// and ARC-* fields, address and trace fields (From, To, Cc, Bcc, Sender,
// Reply-To, Received, Return-Path), signatures, and every field SES
// accepts at most once (Subject, Date, Message-ID, MIME-Version, ...).
func ValidateHeader(h TagHeader) error {
	if err := checkToken(h.Name, 0, "", ErrInvalidHeader, whatHeaderName); err != nil {
		return err
	}
	if sesfield.Reserved(h.Name) {
		e := valueError(ErrInvalidHeader, whatReservedHeader, h.Name, 0, 0)
		e.why = "X-SES-*, Content-*, Resent-*, ARC-*, address, trace and unique fields cannot be tag headers"
		return e
	}
	if err := checkToken(h.Value, 0, "@.", ErrInvalidHeader, whatHeaderValue); err != nil {
		return err
	}
	if len(h.Name)+2+len(h.Value) > maxLineLength {
		e := valueError(ErrInvalidHeader, whatHeaderValue, h.Value, 0, 0)
		e.why = "does not fit on one 998-byte line with its name"
		return e
	}
	return nil
}

// checkToken checks that s is 1..max bytes (max <= 0: no upper bound) of
// A-Z a-z 0-9 _ - and the bytes in extra; if not, the error is about a
// value of the kind what, wrapping sentinel.
func checkToken(s string, max int, extra string, sentinel error, what string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isTokenByte(c) && strings.IndexByte(extra, c) < 0 {
			return valueError(sentinel, what, s, i+1, max)
		}
	}
	if s == "" || (max > 0 && len(s) > max) {
		return valueError(sentinel, what, s, 0, max)
	}
	return nil
}

// maxLineLength is the longest line RFC 5322 allows, without its ending.
const maxLineLength = 998

func isTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}
