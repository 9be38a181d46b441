package sesmime_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/sesmime/sesmime"
	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/parse"
)

// std are the options most golden cases use.
var std = sesmime.Options{
	ConfigurationSet: "news",
	Tags:             []sesmime.Tag{{Name: "campaign", Value: "spring"}, {Name: "team", Value: "growth"}},
}

func with(f func(o *sesmime.Options)) sesmime.Options {
	o := std
	f(&o)
	return o
}

func manyTags(n int) []sesmime.Tag {
	tags := make([]sesmime.Tag, n)
	for i := range tags {
		tags[i] = sesmime.Tag{Name: "tag" + strings.Repeat("n", i%7) + itoa(i), Value: "value-" + itoa(i*7919)}
	}
	return tags
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{digits[i%10]}, b...)
	}
	return string(b)
}

// goldenCases maps testdata/NAME.eml to the options it is rewritten with;
// the result is testdata/NAME.golden.
var goldenCases = []struct {
	name string
	opts sesmime.Options
}{
	{"crlf", std},
	{"lf-only", std},
	{"mixed-lf-first", std},
	{"mixed-crlf-first", std},
	{"mbox-from", std},
	{"mbox-from-crlf", std},
	{"mbox-from-no-header", with(func(o *sesmime.Options) { o.AllowNoHeader = true })},
	{"existing-lowercase", std},
	{"existing-folded", std},
	{"existing-duplicated", std},
	{"space-before-colon", std},
	{"decoy-body", std},
	{"decoy-mime-part", std},
	{"decoy-rfc822", std},
	{"header-only", std},
	{"header-only-no-newline", std},
	{"header-only-no-newline-replace", std},
	{"eightbit-nul", std},
	{"bare-cr", with(func(o *sesmime.Options) { o.AllowBareCR = true })},
	{"long-tags-fold", sesmime.Options{Tags: manyTags(60)}},
	{"merge", with(func(o *sesmime.Options) {
		o.TagsMode = sesmime.Merge
		o.Tags = []sesmime.Tag{{Name: "b", Value: "3"}, {Name: "c", Value: "4"}}
	})},
	{"merge-two-fields", with(func(o *sesmime.Options) {
		o.TagsMode = sesmime.Merge
		o.Tags = []sesmime.Tag{{Name: "c", Value: "3"}}
	})},
	{"keep-existing", with(func(o *sesmime.Options) { o.TagsMode = sesmime.Keep })},
	{"keep-none", with(func(o *sesmime.Options) { o.TagsMode = sesmime.Keep })},
	{"remove-config-set", sesmime.Options{RemoveConfigurationSet: true}},
	{"remove-tags", sesmime.Options{RemoveTags: true}},
	{"remove-all-ses", sesmime.Options{RemoveAllSES: true, RemoveHeaders: []string{"X-Campaign"}}},
	{"custom-header", with(func(o *sesmime.Options) {
		o.Headers = []sesmime.TagHeader{{Name: "X-Campaign", Value: "spring.2026"}, {Name: "X-Team", Value: "growth@example.com"}}
	})},
	{"no-header-text", with(func(o *sesmime.Options) { o.AllowNoHeader = true })},
	{"no-header-bom", with(func(o *sesmime.Options) { o.AllowNoHeader = true })},
	{"leading-continuation", std},
	{"empty-header", std},
	{"zero-options", sesmime.Options{}},
	{"whitespace-only-line", std},
	{"long-other-line", std},
	{"tags-idempotent", std},
}

func TestInjectGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			in := readFile(t, "testdata/"+tc.name+".eml")
			got, err := sesmime.RewriteBytes(in, &tc.opts)
			if err != nil {
				t.Fatalf("InjectBytes: %v", err)
			}
			golden := "testdata/" + tc.name + ".golden"
			if *update {
				writeFile(t, golden, got)
			}
			if diff := cmp.Diff(string(readFile(t, golden)), string(got)); diff != "" {
				t.Errorf("InjectBytes(%s) mismatch (-want +got):\n%s", tc.name, diff)
			}

			// Streaming, one byte or half a buffer per Read: the same bytes.
			for name, r := range map[string]io.Reader{
				"OneByteReader": iotest.OneByteReader(bytes.NewReader(in)),
				"HalfReader":    iotest.HalfReader(bytes.NewReader(in)),
			} {
				var out bytes.Buffer
				n, err := sesmime.Rewrite(&out, r, &tc.opts)
				if err != nil {
					t.Fatalf("Inject(%s): %v", name, err)
				}
				if n != int64(out.Len()) || !bytes.Equal(out.Bytes(), got) {
					t.Errorf("Inject(%s) = %d bytes %q, want %q", name, n, out.Bytes(), got)
				}
			}

			// Check, reading only the header, predicts the change and the size.
			rw, err := inject.NewRewriter(&tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			res, err := rw.Check(bytes.NewReader(in))
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if res.Changed != !bytes.Equal(got, in) || res.Growth != int64(len(got)-len(in)) || res.Written != 0 {
				t.Errorf("Check = changed %v, growth %d, written %d; want %v, %d, 0", res.Changed, res.Growth, res.Written, !bytes.Equal(got, in), len(got)-len(in))
			}

			// Idempotence: a second rewrite changes nothing.
			again, err := sesmime.RewriteBytes(got, &tc.opts)
			if err != nil {
				t.Fatalf("second InjectBytes: %v", err)
			}
			if diff := cmp.Diff(string(got), string(again)); diff != "" {
				t.Errorf("second InjectBytes(%s) changed the output (-first +second):\n%s", tc.name, diff)
			}

			// What parse reads back is what was asked for.
			if tc.opts.ConfigurationSet != "" || len(tc.opts.Tags) > 0 {
				info, err := sesmime.Inspect(bytes.NewReader(got), nil)
				if err != nil {
					t.Fatalf("Inspect: %v", err)
				}
				if cs := tc.opts.ConfigurationSet; cs != "" && info.ConfigurationSet != cs {
					t.Errorf("Inspect: configuration set %q, want %q", info.ConfigurationSet, cs)
				}
				if tc.opts.TagsMode == sesmime.Replace && len(tc.opts.Tags) > 0 {
					if diff := cmp.Diff(tc.opts.Tags, info.Tags); diff != "" {
						t.Errorf("Inspect: tags (-want +got):\n%s", diff)
					}
				}
			}
		})
	}
}

func TestInjectErrors(t *testing.T) {
	long := "Subject: " + strings.Repeat("x", 200) + "\r\n\r\nbody"
	tests := []struct {
		name string
		msg  string
		opts sesmime.Options
		want error
		line int // expected *headerblock.SyntaxError line, 0 if none
	}{
		{"empty message", "", std, headerblock.ErrEmpty, 0},
		{"line too long", long, with(func(o *sesmime.Options) { o.Limits.MaxLineBytes = 100 }), headerblock.ErrLineTooLong, 1},
		{"header too large", "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", with(func(o *sesmime.Options) { o.Limits.MaxHeaderBytes = 10 }), headerblock.ErrHeaderTooLarge, 2},
		{"too many fields", "A: 1\nB: 2\nC: 3\n\n", with(func(o *sesmime.Options) { o.Limits.MaxFields = 2 }), headerblock.ErrTooManyFields, 3},
		{"config set with space", "S: s\n\n", sesmime.Options{ConfigurationSet: "my set"}, parse.ErrInvalidConfigurationSet, 0},
		{"config set with CRLF", "S: s\n\n", sesmime.Options{ConfigurationSet: "a\r\nBcc: x@y"}, parse.ErrInvalidConfigurationSet, 0},
		{"config set too long", "S: s\n\n", sesmime.Options{ConfigurationSet: strings.Repeat("a", 65)}, parse.ErrInvalidConfigurationSet, 0},
		{"tag value with dot", "S: s\n\n", sesmime.Options{Tags: []sesmime.Tag{{Name: "a", Value: "b.c"}}}, parse.ErrInvalidTag, 0},
		{"tag value with NUL", "S: s\n\n", sesmime.Options{Tags: []sesmime.Tag{{Name: "a", Value: "b\x00"}}}, parse.ErrInvalidTag, 0},
		{"tag value non-ASCII", "S: s\n\n", sesmime.Options{Tags: []sesmime.Tag{{Name: "a", Value: "caf\u00e9"}}}, parse.ErrInvalidTag, 0},
		{"tag name reserved", "S: s\n\n", sesmime.Options{Tags: []sesmime.Tag{{Name: "ses:from-domain", Value: "x"}}}, parse.ErrInvalidTag, 0},
		{"tag name empty", "S: s\n\n", sesmime.Options{Tags: []sesmime.Tag{{Name: "", Value: "x"}}}, parse.ErrInvalidTag, 0},
		{"tag given twice", "S: s\n\n", sesmime.Options{Tags: []sesmime.Tag{{Name: "a", Value: "1"}, {Name: "a", Value: "2"}}}, inject.ErrInvalidOption, 0},
		{"header name reserved", "S: s\n\n", sesmime.Options{Headers: []sesmime.TagHeader{{Name: "Subject", Value: "x"}}}, parse.ErrInvalidHeader, 0},
		{"header name X-SES", "S: s\n\n", sesmime.Options{Headers: []sesmime.TagHeader{{Name: "x-ses-tenant", Value: "x"}}}, parse.ErrInvalidHeader, 0},
		{"header value with LF", "S: s\n\n", sesmime.Options{Headers: []sesmime.TagHeader{{Name: "X-C", Value: "a\nBcc: x"}}}, parse.ErrInvalidHeader, 0},
		{"header given twice", "S: s\n\n", sesmime.Options{Headers: []sesmime.TagHeader{{Name: "X-C", Value: "a"}, {Name: "x-c", Value: "b"}}}, inject.ErrInvalidOption, 0},
		{"set and remove", "S: s\n\n", sesmime.Options{ConfigurationSet: "a", RemoveConfigurationSet: true}, inject.ErrInvalidOption, 0},
		{"merge invalid existing", "X-SES-MESSAGE-TAGS: a=b.c\n\n", sesmime.Options{Tags: std.Tags, TagsMode: sesmime.Merge}, sesmime.ErrInvalidTag, 0},
		{"bad tags mode", "S: s\n\n", sesmime.Options{Tags: std.Tags, TagsMode: 7}, inject.ErrInvalidOption, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := sesmime.Rewrite(&out, strings.NewReader(tc.msg), &tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Inject error = %v, want %v", err, tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("Inject wrote %d bytes before failing", out.Len())
			}
			if tc.line != 0 {
				se, ok := errors.AsType[*headerblock.SyntaxError](err)
				if !ok {
					t.Fatalf("error %v is not a *headerblock.SyntaxError", err)
				}
				if se.Line != tc.line {
					t.Errorf("SyntaxError.Line = %d, want %d", se.Line, tc.line)
				}
			}
		})
	}
}
