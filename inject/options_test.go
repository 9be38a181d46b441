package inject_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/parse"
)

func TestOptionsValidate(t *testing.T) {
	tag := func(n, v string) []parse.Tag { return []parse.Tag{{Name: n, Value: v}} }
	hdr := func(n, v string) []parse.TagHeader { return []parse.TagHeader{{Name: n, Value: v}} }
	tests := []struct {
		name string
		opts *inject.Options
		err  error // nil: valid
		off  int   // 0-based byte at fault (ValueError.Column-1) when err is a parse sentinel
	}{
		{name: "nil", opts: nil},
		{name: "zero", opts: &inject.Options{}},
		{name: "everything valid", opts: &inject.Options{
			ConfigurationSet: "news", Tags: []parse.Tag{{Name: "a", Value: "1"}, {Name: "ses:feedback-id-a", Value: "x"}},
			TagsMode: inject.Merge, Headers: hdr("X-Campaign", "spring.2026"), RemoveHeaders: []string{"X-Old"},
		}},
		{name: "remove all and set", opts: &inject.Options{RemoveAllSES: true, ConfigurationSet: "a", Tags: tag("a", "1")}},
		{name: "bad configuration set", opts: &inject.Options{ConfigurationSet: "a b"}, err: parse.ErrInvalidConfigurationSet, off: 1},
		{name: "configuration set injection", opts: &inject.Options{ConfigurationSet: "a\r\nBcc: x"}, err: parse.ErrInvalidConfigurationSet, off: 1},
		{name: "long configuration set", opts: &inject.Options{ConfigurationSet: strings.Repeat("a", 65)}, err: parse.ErrInvalidConfigurationSet, off: -1},
		{name: "set and remove configuration set", opts: &inject.Options{ConfigurationSet: "a", RemoveConfigurationSet: true}, err: inject.ErrInvalidOption},
		{name: "tags mode too big", opts: &inject.Options{TagsMode: inject.Keep + 1}, err: inject.ErrInvalidOption},
		{name: "tags mode negative", opts: &inject.Options{TagsMode: -1}, err: inject.ErrInvalidOption},
		{name: "bad tag name", opts: &inject.Options{Tags: tag("a b", "1")}, err: parse.ErrInvalidTag, off: 1},
		{name: "empty tag name", opts: &inject.Options{Tags: tag("", "1")}, err: parse.ErrInvalidTag, off: -1},
		{name: "reserved tag name", opts: &inject.Options{Tags: tag("ses:source-ip", "1")}, err: parse.ErrInvalidTag, off: 3},
		{name: "empty tag value", opts: &inject.Options{Tags: tag("a", "")}, err: parse.ErrInvalidTag, off: -1},
		{name: "tag value injection", opts: &inject.Options{Tags: tag("a", "1\nX: y")}, err: parse.ErrInvalidTag, off: 1},
		{name: "tag value with dot", opts: &inject.Options{Tags: tag("a", "1.2")}, err: parse.ErrInvalidTag, off: 1},
		{name: "duplicate tag", opts: &inject.Options{Tags: []parse.Tag{{Name: "a", Value: "1"}, {Name: "a", Value: "2"}}}, err: inject.ErrInvalidOption},
		{name: "set and remove tags", opts: &inject.Options{Tags: tag("a", "1"), RemoveTags: true}, err: inject.ErrInvalidOption},
		{name: "bad header name", opts: &inject.Options{Headers: hdr("X C", "v")}, err: parse.ErrInvalidHeader, off: 1},
		{name: "reserved header name", opts: &inject.Options{Headers: hdr("x-ses-configuration-set", "v")}, err: parse.ErrInvalidHeader, off: -1},
		{name: "structural header name", opts: &inject.Options{Headers: hdr("Content-Type", "v")}, err: parse.ErrInvalidHeader, off: -1},
		{name: "bad header value", opts: &inject.Options{Headers: hdr("X-C", "a b")}, err: parse.ErrInvalidHeader, off: 1},
		{name: "header value injection", opts: &inject.Options{Headers: hdr("X-C", "a\r\n\r\nbody")}, err: parse.ErrInvalidHeader, off: 1},
		{name: "non-ascii header value", opts: &inject.Options{Headers: hdr("X-C", "caf\xc3\xa9")}, err: parse.ErrInvalidHeader, off: 3},
		{name: "header too long", opts: &inject.Options{Headers: hdr("X-C", strings.Repeat("v", 994))}, err: parse.ErrInvalidHeader, off: -1},
		{name: "duplicate header", opts: &inject.Options{Headers: []parse.TagHeader{{Name: "X-C", Value: "1"}, {Name: "x-c", Value: "2"}}}, err: inject.ErrInvalidOption},
		{name: "set and remove header", opts: &inject.Options{Headers: hdr("X-C", "1"), RemoveHeaders: []string{"X-c"}}, err: inject.ErrInvalidOption},
		{name: "set configuration set and remove it by name", opts: &inject.Options{ConfigurationSet: "a", RemoveHeaders: []string{"x-ses-configuration-set"}}, err: inject.ErrInvalidOption},
		{name: "set tags and remove them by name", opts: &inject.Options{Tags: tag("a", "1"), RemoveHeaders: []string{"X-SES-MESSAGE-TAGS"}}, err: inject.ErrInvalidOption},
		{name: "empty name to remove", opts: &inject.Options{RemoveHeaders: []string{""}}, err: inject.ErrInvalidOption},
		{name: "space in name to remove", opts: &inject.Options{RemoveHeaders: []string{"X C"}}, err: inject.ErrInvalidOption},
		{name: "colon in name to remove", opts: &inject.Options{RemoveHeaders: []string{"X:"}}, err: inject.ErrInvalidOption},
		{name: "non-ascii name to remove", opts: &inject.Options{RemoveHeaders: []string{"X\xc3\xa9"}}, err: inject.ErrInvalidOption},
		{name: "crlf in name to remove", opts: &inject.Options{RemoveHeaders: []string{"X\r\n"}}, err: inject.ErrInvalidOption},
	}
	const msg = "Subject: hi\r\n\r\nbody\r\n"
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := inject.NewRewriter(tc.opts)
			if tc.err == nil {
				if err != nil {
					t.Fatalf("NewRewriter = %v", err)
				}
				return
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("NewRewriter = %v, want %v", err, tc.err)
			}
			if ve, ok := errors.AsType[*parse.ValueError](err); ok && ve.Column != tc.off+1 {
				t.Errorf("ValueError.Column = %d, want %d", ve.Column, tc.off+1)
			}
			// Refused before anything is read or written.
			var out bytes.Buffer
			n, err := rewrite(&out, strings.NewReader(msg), tc.opts)
			if !errors.Is(err, tc.err) || n != 0 || out.Len() != 0 {
				t.Errorf("Rewrite = %d, %v, wrote %q; want 0, %v, nothing", n, err, out.String(), tc.err)
			}
			if b, err := rewriteBytes([]byte(msg), tc.opts); !errors.Is(err, tc.err) || b != nil {
				t.Errorf("Bytes = %q, %v; want nil, %v", b, err, tc.err)
			}
			if rw, err := inject.NewRewriter(tc.opts); !errors.Is(err, tc.err) || rw != nil {
				t.Errorf("NewRewriter = %v, %v; want nil, %v", rw, err, tc.err)
			}
		})
	}
}

func TestTagsModeString(t *testing.T) {
	for m, want := range map[inject.TagsMode]string{inject.Replace: "replace", inject.Merge: "merge", inject.Keep: "keep", 7: "TagsMode(7)"} {
		if got := m.String(); got != want {
			t.Errorf("TagsMode(%d).String() = %q, want %q", int(m), got, want)
		}
	}
}

// TestNewRewriterCopiesOptions checks that changing the caller's slices
// after NewRewriter does not change what the Rewriter does.
func TestNewRewriterCopiesOptions(t *testing.T) {
	opts := &inject.Options{Tags: []parse.Tag{{Name: "a", Value: "1"}}, Headers: []parse.TagHeader{{Name: "X-C", Value: "v"}}}
	rw, err := inject.NewRewriter(opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Tags[0].Value = "bad value"
	opts.Headers[0].Value = "bad value"
	out, _, err := rw.Bytes([]byte("S: x\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "X-SES-MESSAGE-TAGS: a=1\nX-C: v\nS: x\n\n"; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}
