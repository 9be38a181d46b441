package inject

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/internal/sesfield"
	"github.com/sesmime/sesmime/parse"
)

// TagsMode says what happens to tags a message already has when
// Options.Tags is set.
type TagsMode int

const (
	// Replace removes every existing X-SES-MESSAGE-TAGS field and writes
	// Options.Tags in the place of the first one.
	Replace TagsMode = iota
	// Merge writes parse.MergeTags(existing tags, Options.Tags) in one
	// field in the place of the first one. Existing tags that could not
	// be written back valid are refused with a *parse.ValueError giving
	// their line and column.
	Merge
	// Keep leaves existing tags fields untouched; Options.Tags is written
	// only when the message has none.
	Keep
)

// String returns "replace", "merge" or "keep".
func (m TagsMode) String() string {
	switch m {
	case Replace:
		return "replace"
	case Merge:
		return "merge"
	case Keep:
		return "keep"
	}
	return fmt.Sprintf("TagsMode(%d)", int(m))
}

// ErrInvalidOption is wrapped by the errors about Options that are not a
// *parse.ValueError: a name given twice, a field both set and removed, an
// unknown mode. They are returned before anything is read or written.
var ErrInvalidOption = errors.New("invalid option")

// Options says what Rewrite changes. The zero value (or nil) changes
// nothing. Removals apply first, then the fields to set.
type Options struct {
	// ConfigurationSet sets X-SES-CONFIGURATION-SET; "" leaves it alone.
	ConfigurationSet string
	// Tags sets X-SES-MESSAGE-TAGS as TagsMode says; empty leaves it alone.
	Tags     []parse.Tag
	TagsMode TagsMode
	// Headers sets custom tag headers: exactly one field of each name,
	// written with the name as given.
	Headers []parse.TagHeader

	RemoveConfigurationSet bool     // drop X-SES-CONFIGURATION-SET fields
	RemoveTags             bool     // drop X-SES-MESSAGE-TAGS fields
	RemoveAllSES           bool     // drop every X-SES-* field
	RemoveHeaders          []string // drop the fields of these names

	// Limits bound the header block read from the message. They count
	// the message's own fields: the fields the options set or remove (and
	// every X-SES-* field) count apart, each kind within the limits, so
	// that a rewrite's output reads back within the same limits.
	Limits headerblock.Limits

	// AllowNoHeader rewrites a message without a header block (its first
	// line, after any mbox "From " line, is neither a field nor empty) by
	// putting the new fields and an empty line before it, so that all of
	// it stays body. By default such a message is refused with an error
	// matching sesmime.ErrNoHeader (also when it starts with a UTF-8 BOM).
	AllowNoHeader bool
	// AllowBareCR takes a CR not followed by LF in the header for data, as
	// sesmime reads it. By default it is refused with sesmime.ErrBareCR:
	// other parsers end a line there.
	AllowBareCR bool
}

// Errors about a message that a rewrite refuses, besides a
// *sesmime.SyntaxError or *sesmime.AmbiguityError about its header.
var (
	// ErrNothingLeft: the removals would leave an empty output, which
	// sesmime itself (as most parsers) refuses to read.
	ErrNothingLeft = errors.New("removing the fields would leave an empty message")
)

// validate checks every value in o against SES's rules (package parse) and
// that o does not contradict itself. It returns the first problem, wrapping
// a *parse.ValueError or ErrInvalidOption.
func (o *Options) validate() error {
	if o == nil {
		return nil
	}
	if o.ConfigurationSet != "" {
		if err := parse.ValidateConfigurationSet(o.ConfigurationSet); err != nil {
			return err
		}
		if o.RemoveConfigurationSet {
			return fmt.Errorf("%w: %s both set and removed", ErrInvalidOption, sesfield.ConfigurationSet)
		}
	}
	if o.TagsMode < Replace || o.TagsMode > Keep {
		return fmt.Errorf("%w: tags mode %v", ErrInvalidOption, o.TagsMode)
	}
	for i, t := range o.Tags {
		if err := parse.ValidateTag(t); err != nil {
			return fmt.Errorf("tag %d: %w", i+1, err)
		}
		for _, u := range o.Tags[:i] {
			if u.Name == t.Name {
				return fmt.Errorf("%w: tag %q given twice", ErrInvalidOption, t.Name)
			}
		}
	}
	if len(o.Tags) > 0 && o.RemoveTags {
		return fmt.Errorf("%w: %s both set and removed", ErrInvalidOption, sesfield.Tags)
	}
	for i, h := range o.Headers {
		if err := parse.ValidateHeader(h); err != nil {
			return fmt.Errorf("header %d: %w", i+1, err)
		}
		for _, g := range o.Headers[:i] {
			if strings.EqualFold(g.Name, h.Name) {
				return fmt.Errorf("%w: header %q given twice", ErrInvalidOption, h.Name)
			}
		}
		for _, r := range o.RemoveHeaders {
			if strings.EqualFold(r, h.Name) {
				return fmt.Errorf("%w: %s both set and removed", ErrInvalidOption, h.Name)
			}
		}
	}
	for _, r := range o.RemoveHeaders {
		if o.ConfigurationSet != "" && strings.EqualFold(r, sesfield.ConfigurationSet) ||
			len(o.Tags) > 0 && strings.EqualFold(r, sesfield.Tags) {
			return fmt.Errorf("%w: %s both set and removed", ErrInvalidOption, r)
		}
		if r == "" || strings.IndexFunc(r, func(c rune) bool { return c <= ' ' || c >= 127 || c == ':' }) >= 0 {
			return fmt.Errorf("%w: field name to remove %q", ErrInvalidOption, r)
		}
	}
	return nil
}
