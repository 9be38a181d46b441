package parse_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sesmime/sesmime/parse"
)

// checkValueError checks err against the sentinel and the 0-based offset
// of the byte at fault (-1 for none), and that its text names what.
func checkValueError(t *testing.T, err, want error, what string, off int) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("got %v, want nil", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want %v", err, want)
	}
	ve, ok := errors.AsType[*parse.ValueError](err)
	if !ok {
		t.Fatalf("error %T is not a *parse.ValueError", err)
	}
	if ve.Column != off+1 {
		t.Errorf("ValueError.Column = %d, want %d", ve.Column, off+1)
	}
	if !strings.Contains(ve.Error(), what) {
		t.Errorf("Error() = %q does not name the %s", ve.Error(), what)
	}
}

func TestValidateConfigurationSet(t *testing.T) {
	tests := []struct {
		in  string
		err error
		off int
	}{
		{in: "news"},
		{in: "a"},
		{in: "Az09_-"},
		{in: strings.Repeat("x", 64)},
		{in: "", err: parse.ErrInvalidConfigurationSet, off: -1},
		{in: strings.Repeat("x", 65), err: parse.ErrInvalidConfigurationSet, off: -1},
		{in: "my set", err: parse.ErrInvalidConfigurationSet, off: 2},
		{in: "a\r\nX-Evil: 1", err: parse.ErrInvalidConfigurationSet, off: 1},
		{in: "a\n", err: parse.ErrInvalidConfigurationSet, off: 1},
		{in: "a\x00", err: parse.ErrInvalidConfigurationSet, off: 1},
		{in: "caf\xc3\xa9", err: parse.ErrInvalidConfigurationSet, off: 3},
		{in: "a.b", err: parse.ErrInvalidConfigurationSet, off: 1},
		{in: "a:b", err: parse.ErrInvalidConfigurationSet, off: 1},
		{in: "a@b", err: parse.ErrInvalidConfigurationSet, off: 1},
		{in: "\tx", err: parse.ErrInvalidConfigurationSet, off: 0},
		{in: strings.Repeat("x", 70) + " ", err: parse.ErrInvalidConfigurationSet, off: 70},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			checkValueError(t, parse.ValidateConfigurationSet(tc.in), tc.err, "configuration set", tc.off)
		})
	}
}

func TestValidateTag(t *testing.T) {
	tests := []struct {
		tag  parse.Tag
		err  error
		what string
		off  int
	}{
		{tag: parse.Tag{Name: "campaign", Value: "spring"}},
		{tag: parse.Tag{Name: "ses:feedback-id-a", Value: "x"}},
		{tag: parse.Tag{Name: "ses:feedback-id-b", Value: "x-1_2"}},
		{tag: parse.Tag{Name: strings.Repeat("n", 256), Value: strings.Repeat("v", 256)}},
		{tag: parse.Tag{Name: "", Value: "v"}, err: parse.ErrInvalidTag, what: "tag name", off: -1},
		{tag: parse.Tag{Name: strings.Repeat("n", 257), Value: "v"}, err: parse.ErrInvalidTag, what: "tag name", off: -1},
		{tag: parse.Tag{Name: "a b", Value: "v"}, err: parse.ErrInvalidTag, what: "tag name", off: 1},
		{tag: parse.Tag{Name: "a=b", Value: "v"}, err: parse.ErrInvalidTag, what: "tag name", off: 1},
		{tag: parse.Tag{Name: "a,b", Value: "v"}, err: parse.ErrInvalidTag, what: "tag name", off: 1},
		{tag: parse.Tag{Name: "n\xc3\xa9", Value: "v"}, err: parse.ErrInvalidTag, what: "tag name", off: 1},
		{tag: parse.Tag{Name: "ses:from-domain", Value: "v"}, err: parse.ErrInvalidTag, what: "tag name", off: 3},
		{tag: parse.Tag{Name: "ses:configuration-set", Value: "v"}, err: parse.ErrInvalidTag, what: "tag name", off: 3},
		{tag: parse.Tag{Name: "aws:x", Value: "v"}, err: parse.ErrInvalidTag, what: "tag name", off: 3},
		{tag: parse.Tag{Name: "SES:feedback-id-a", Value: "v"}, err: parse.ErrInvalidTag, what: "tag name", off: 3},
		{tag: parse.Tag{Name: ":", Value: "v"}, err: parse.ErrInvalidTag, what: "tag name", off: 0},
		{tag: parse.Tag{Name: "n", Value: ""}, err: parse.ErrInvalidTag, what: "tag value", off: -1},
		{tag: parse.Tag{Name: "n", Value: strings.Repeat("v", 257)}, err: parse.ErrInvalidTag, what: "tag value", off: -1},
		{tag: parse.Tag{Name: "n", Value: "a.b"}, err: parse.ErrInvalidTag, what: "tag value", off: 1},
		{tag: parse.Tag{Name: "n", Value: "a@b"}, err: parse.ErrInvalidTag, what: "tag value", off: 1},
		{tag: parse.Tag{Name: "n", Value: "v\r\nX-Evil: 1"}, err: parse.ErrInvalidTag, what: "tag value", off: 1},
		{tag: parse.Tag{Name: "n", Value: "v, m=w"}, err: parse.ErrInvalidTag, what: "tag value", off: 1},
		{tag: parse.Tag{Name: "n", Value: "\x00"}, err: parse.ErrInvalidTag, what: "tag value", off: 0},
		{tag: parse.Tag{Name: "ses:feedback-id-a", Value: "a b"}, err: parse.ErrInvalidTag, what: "tag value", off: 1},
	}
	for _, tc := range tests {
		t.Run(tc.tag.Name+"="+tc.tag.Value, func(t *testing.T) {
			checkValueError(t, parse.ValidateTag(tc.tag), tc.err, tc.what, tc.off)
		})
	}
}

func TestValidateHeader(t *testing.T) {
	tests := []struct {
		h    parse.TagHeader
		err  error
		what string
		off  int
	}{
		{h: parse.TagHeader{Name: "X-Campaign", Value: "spring.2026"}},
		{h: parse.TagHeader{Name: "campaign_id", Value: "a@b.example"}},
		{h: parse.TagHeader{Name: "X-C", Value: strings.Repeat("v", 993)}},
		{h: parse.TagHeader{Name: "", Value: "v"}, err: parse.ErrInvalidHeader, what: "header name", off: -1},
		{h: parse.TagHeader{Name: "X Campaign", Value: "v"}, err: parse.ErrInvalidHeader, what: "header name", off: 1},
		{h: parse.TagHeader{Name: "X:C", Value: "v"}, err: parse.ErrInvalidHeader, what: "header name", off: 1},
		{h: parse.TagHeader{Name: "X\r\nBcc", Value: "v"}, err: parse.ErrInvalidHeader, what: "header name", off: 1},
		{h: parse.TagHeader{Name: "X.C", Value: "v"}, err: parse.ErrInvalidHeader, what: "header name", off: 1},
		{h: parse.TagHeader{Name: "X-SES-CONFIGURATION-SET", Value: "v"}, err: parse.ErrInvalidHeader, what: "header name", off: -1},
		{h: parse.TagHeader{Name: "x-ses-message-tags", Value: "v"}, err: parse.ErrInvalidHeader, what: "header name", off: -1},
		{h: parse.TagHeader{Name: "X-SES-TENANT", Value: "v"}, err: parse.ErrInvalidHeader, what: "header name", off: -1},
		{h: parse.TagHeader{Name: "From", Value: "v"}, err: parse.ErrInvalidHeader, what: "header name", off: -1},
		{h: parse.TagHeader{Name: "content-type", Value: "v"}, err: parse.ErrInvalidHeader, what: "header name", off: -1},
		{h: parse.TagHeader{Name: "Message-ID", Value: "v"}, err: parse.ErrInvalidHeader, what: "header name", off: -1},
		{h: parse.TagHeader{Name: "X-C", Value: ""}, err: parse.ErrInvalidHeader, what: "header value", off: -1},
		{h: parse.TagHeader{Name: "X-C", Value: "a b"}, err: parse.ErrInvalidHeader, what: "header value", off: 1},
		{h: parse.TagHeader{Name: "X-C", Value: "a\r\nBcc: x"}, err: parse.ErrInvalidHeader, what: "header value", off: 1},
		{h: parse.TagHeader{Name: "X-C", Value: "\xc3\xa9"}, err: parse.ErrInvalidHeader, what: "header value", off: 0},
		{h: parse.TagHeader{Name: "X-C", Value: "a,b"}, err: parse.ErrInvalidHeader, what: "header value", off: 1},
		{h: parse.TagHeader{Name: "X-C", Value: "a\x00"}, err: parse.ErrInvalidHeader, what: "header value", off: 1},
		{h: parse.TagHeader{Name: "X-C", Value: strings.Repeat("v", 994)}, err: parse.ErrInvalidHeader, what: "header value", off: -1},
	}
	for _, tc := range tests {
		t.Run(tc.h.Name+"="+tc.h.Value[:min(len(tc.h.Value), 20)], func(t *testing.T) {
			checkValueError(t, parse.ValidateHeader(tc.h), tc.err, tc.what, tc.off)
		})
	}
}
