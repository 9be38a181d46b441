package parse

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrMalformedTag is wrapped by a *TagError for an item of a tags field that
// is not name=value.
var ErrMalformedTag = errors.New("parse: tag is not name=value")

// A TagError reports an item of a tags field that ParseTags cannot read.
type TagError struct {
	Item int    // 1-based index of the item among the ','-separated items
	Text string // the item, trimmed
	Err  error  // ErrMalformedTag
}

func (e *TagError) Error() string { return fmt.Sprintf("tag %d %q: %v", e.Item, e.Text, e.Err) }

func (e *TagError) Unwrap() error { return e.Err }

// ParseTags reads the value of an X-SES-MESSAGE-TAGS field: items separated
// by ',', each "name=value". SP and HTAB around items, names and values are
// trimmed and empty items are ignored. It does not validate names and values
// (see ValidateTag). It returns the tags it could read; the error, if any,
// is a *TagError for the first item that has no '=' or an empty name.
func ParseTags(value string) ([]Tag, error) {
	var (
		tags  []Tag
		first error
	)
	for i, item := range strings.Split(value, ",") {
		item = strings.Trim(item, " \t")
		if item == "" {
			continue
		}
		name, val, ok := strings.Cut(item, "=")
		name = strings.Trim(name, " \t")
		if !ok || name == "" {
			if first == nil {
				first = &TagError{Item: i + 1, Text: item, Err: ErrMalformedTag}
			}
			continue
		}
		tags = append(tags, Tag{Name: name, Value: strings.Trim(val, " \t")})
	}
	return tags, first
}

// MergeTags returns existing merged with set, as a new slice: the existing
// tags in order (a repeated name once, at its first place, with its first
// value), the value of a name set also has replaced by set's, and set's new
// names appended in set's order.
func MergeTags(existing, set []Tag) []Tag {
	out := make([]Tag, 0, len(existing)+len(set))
	for _, t := range existing {
		if !slices.ContainsFunc(out, func(u Tag) bool { return u.Name == t.Name }) {
			out = append(out, t)
		}
	}
	for _, t := range set {
		if i := slices.IndexFunc(out, func(u Tag) bool { return u.Name == t.Name }); i >= 0 {
			out[i].Value = t.Value
		} else {
			out = append(out, t)
		}
	}
	return out
}

// FormatTags returns tags in the canonical form of a tags field value:
// "name=value, name=value".
func FormatTags(tags []Tag) string {
	var sb strings.Builder
	for i, t := range tags {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(t.Name)
		sb.WriteByte('=')
		sb.WriteString(t.Value)
	}
	return sb.String()
}
