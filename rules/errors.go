package rules

import (
	"errors"
	"fmt"
)

// Errors wrapped by *Error when a rules file does not load.
var (
	ErrSyntax       = errors.New("not valid TOML")
	ErrDuplicateKey = errors.New("key defined twice")
	ErrUnknownKey   = errors.New("unknown key")
	ErrType         = errors.New("wrong type")
	ErrEmpty        = errors.New("empty value")
	ErrGlob         = errors.New("invalid glob")
	ErrCIDR         = errors.New("invalid CIDR or IP address")
	ErrTagsMode     = errors.New("tags_mode must be replace, merge or keep")
	ErrFieldName    = errors.New("invalid header field name")
	ErrReason       = errors.New("reject reason must be 1-200 bytes of printable ASCII")
	ErrConflict     = errors.New("conflicting keys")
)

// An Error reports a rules file that does not load: where, and what is
// wrong. Err wraps one of the Err* sentinels above or a *parse.ValueError
// (for a configuration set, tag or header SES would refuse).
type Error struct {
	File   string // the name given to Parse or Load
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based; 0 when unknown
	Err    error
}

func (e *Error) Error() string {
	switch {
	case e.Line == 0:
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	case e.Column == 0:
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d:%d: %v", e.File, e.Line, e.Column, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrTagFromHeader is wrapped by a *HeaderError.
var ErrTagFromHeader = errors.New("header value cannot be a tag value")

// A HeaderError reports a tag_from_header whose field holds a value SES
// would refuse as a tag value. It matches ErrTagFromHeader and the
// *parse.ValueError in Err.
type HeaderError struct {
	Rule  string // the rule's name
	Line  int    // the line of the rule in its file
	Tag   string // the tag name
	Field string // the header field the value came from
	Err   error  // the *parse.ValueError
}

func (e *HeaderError) Error() string {
	return fmt.Sprintf("%s (line %d): tag %s from %s: %v: %v", e.Rule, e.Line, e.Tag, e.Field, ErrTagFromHeader, e.Err)
}

func (e *HeaderError) Unwrap() []error { return []error{ErrTagFromHeader, e.Err} }
