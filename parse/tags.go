package parse

import (
	"errors"
	"slices"
	"strings"
)

// ParseTags reads the value of an X-SES-MESSAGE-TAGS field: items separated
// by ',', each "name=value". SP and HTAB around items, names and values are
// trimmed and empty items are ignored. It returns the tags it could read
// and, if value has any, the first item that is not name=value (a
// "malformed tag"), else the first tag ValidateTag refuses: a *ValueError
// wrapping ErrInvalidTag whose Column is a byte of value.
func ParseTags(value string) ([]Tag, error) {
	tags, pos, err := parseTags(value)
	if err != nil {
		return tags, err
	}
	for i, t := range tags {
		if err := validateTagAt(t, pos[i]); err != nil {
			return tags, err
		}
	}
	return tags, nil
}

// validateTagAt is ValidateTag for a tag at p in a tags field value, the
// Column of its error being a byte of that value.
func validateTagAt(t Tag, p tagPos) error {
	err := ValidateTag(t)
	if ve, ok := errors.AsType[*ValueError](err); ok && ve.Column > 0 {
		off := p.name
		if ve.what == whatTagValue {
			off = p.value
		}
		ve.Column += off
	}
	return err
}

// A tagPos gives the offsets in a tags field value of a tag's name and value.
type tagPos struct{ name, value int }

// parseTags is ParseTags, also returning where each tag is in value.
func parseTags(value string) ([]Tag, []tagPos, error) {
	var (
		tags  []Tag
		pos   []tagPos
		first error
	)
	at := 0 // offset of the item in value
	for _, raw := range strings.Split(value, ",") {
		start := at + len(raw) - len(strings.TrimLeft(raw, " \t"))
		at += len(raw) + 1
		item := strings.Trim(raw, " \t")
		if item == "" {
			continue
		}
		rawName, rawVal, ok := strings.Cut(item, "=")
		name := strings.Trim(rawName, " \t")
		if !ok || name == "" {
			if first == nil {
				first = &ValueError{Value: item, Column: start + 1, Err: ErrInvalidTag, what: whatMalformedTag, why: "not name=value"}
			}
			continue
		}
		val := strings.Trim(rawVal, " \t")
		vstart := start + len(rawName) + 1 + len(rawVal) - len(strings.TrimLeft(rawVal, " \t"))
		tags = append(tags, Tag{Name: name, Value: val})
		pos = append(pos, tagPos{name: start, value: vstart})
	}
	return tags, pos, first
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
