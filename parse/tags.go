package parse

import (
	"slices"
	"strings"
)

// ParseTags reads the value of an X-SES-MESSAGE-TAGS field: items separated
// by ',', each "name=value". SP and HTAB around items, names and values are
// trimmed and empty items are ignored. It does not validate names and values
// (see ValidateTag). It returns the tags it could read; the error, if any,
// is a *ValueError wrapping ErrInvalidTag for the first item that has no
// '=' or an empty name ("malformed tag"), its Column the item's first byte
// in value.
func ParseTags(value string) ([]Tag, error) {
	tags, _, err := parseTags(value)
	return tags, err
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
