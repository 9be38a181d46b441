package inject_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/internal/sesfield"
	"github.com/sesmime/sesmime/parse"
)

const (
	cs   = "X-SES-CONFIGURATION-SET"
	tg   = "X-SES-MESSAGE-TAGS"
	base = "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
)

func tags(kv ...string) []parse.Tag {
	var ts []parse.Tag
	for i := 0; i < len(kv); i += 2 {
		ts = append(ts, parse.Tag{Name: kv[i], Value: kv[i+1]})
	}
	return ts
}

func added(name string) inject.Change { return inject.Change{Op: inject.Added, Name: name} }
func replaced(name string, line int) inject.Change {
	return inject.Change{Op: inject.Replaced, Name: name, Line: line}
}
func removed(name string, line int) inject.Change {
	return inject.Change{Op: inject.Removed, Name: name, Line: line}
}

// longTags returns n tags whose canonical form is far over 998 bytes.
func longTags(n int) []parse.Tag {
	var ts []parse.Tag
	for i := range n {
		ts = append(ts, parse.Tag{Name: fmt.Sprintf("tag%03d", i), Value: strings.Repeat("v", 20)})
	}
	return ts
}

var rewriteTests = []struct {
	name    string
	in      string
	opts    *inject.Options
	want    string // "" with err set: refused
	changes []inject.Change
	err     error
}{
	{name: "nil options", in: base, opts: nil, want: base},
	{name: "zero options", in: base, opts: &inject.Options{}, want: base},
	{
		name: "add configuration set crlf", in: base, opts: &inject.Options{ConfigurationSet: "news"},
		want:    cs + ": news\r\n" + base,
		changes: []inject.Change{added(cs)},
	},
	{
		name: "add configuration set lf", in: "Subject: hi\n\nbody\n", opts: &inject.Options{ConfigurationSet: "news"},
		want:    cs + ": news\nSubject: hi\n\nbody\n",
		changes: []inject.Change{added(cs)},
	},
	{
		name: "replace in place, lower case, space before colon",
		in:   "From: a\nx-ses-configuration-set : old\nSubject: s\n\nb", opts: &inject.Options{ConfigurationSet: "news"},
		want:    "From: a\n" + cs + ": news\nSubject: s\n\nb",
		changes: []inject.Change{replaced(cs, 2)},
	},
	{
		name: "replace folded",
		in:   "A: 1\r\nX-SES-CONFIGURATION-SET:\r\n old\r\nB: 2\r\n\r\n", opts: &inject.Options{ConfigurationSet: "news"},
		want:    "A: 1\r\n" + cs + ": news\r\nB: 2\r\n\r\n",
		changes: []inject.Change{replaced(cs, 2)},
	},
	{
		name: "duplicates removed, first place kept",
		in:   "A: 1\nX-SES-CONFIGURATION-SET: a\nB: 2\nx-ses-configuration-set: b\n\n", opts: &inject.Options{ConfigurationSet: "news"},
		want:    "A: 1\n" + cs + ": news\nB: 2\n\n",
		changes: []inject.Change{replaced(cs, 2), removed("x-ses-configuration-set", 4)},
	},
	{
		name: "same bytes already there",
		in:   "X-SES-CONFIGURATION-SET: news\n\nb", opts: &inject.Options{ConfigurationSet: "news"},
		want: "X-SES-CONFIGURATION-SET: news\n\nb",
	},
	{
		name: "same value, other case is replaced",
		in:   "x-ses-configuration-set: news\n\nb", opts: &inject.Options{ConfigurationSet: "news"},
		want:    cs + ": news\n\nb",
		changes: []inject.Change{replaced(cs, 1)},
	},
	{
		name: "same bytes but duplicated",
		in:   "X-SES-CONFIGURATION-SET: news\nX-SES-CONFIGURATION-SET: news\n\nb", opts: &inject.Options{ConfigurationSet: "news"},
		want:    cs + ": news\n\nb",
		changes: []inject.Change{removed(cs, 2)},
	},
	{
		name: "replace tags",
		in:   "X-SES-MESSAGE-TAGS: a=1\nSubject: s\nX-SES-MESSAGE-TAGS: b=2\n\n", opts: &inject.Options{Tags: tags("c", "3")},
		want:    tg + ": c=3\nSubject: s\n\n",
		changes: []inject.Change{replaced(tg, 1), removed(tg, 3)},
	},
	{
		name:    "merge tags",
		in:      "Subject: s\nX-SES-MESSAGE-TAGS: a=1, b=2\nX-SES-MESSAGE-TAGS: a=9, d=4\n\n",
		opts:    &inject.Options{Tags: tags("b", "5", "c", "3"), TagsMode: inject.Merge},
		want:    "Subject: s\n" + tg + ": a=1, b=5, d=4, c=3\n\n",
		changes: []inject.Change{replaced(tg, 2), removed(tg, 3)},
	},
	{
		name:    "merge tags, lenient existing form",
		in:      "x-ses-message-tags :  a = 1 ,,\r\n b=2\r\n\r\n",
		opts:    &inject.Options{Tags: tags("c", "3"), TagsMode: inject.Merge},
		want:    tg + ": a=1, b=2, c=3\r\n\r\n",
		changes: []inject.Change{replaced(tg, 1)},
	},
	{
		name: "merge without existing tags adds",
		in:   base, opts: &inject.Options{Tags: tags("a", "1"), TagsMode: inject.Merge},
		want:    tg + ": a=1\r\n" + base,
		changes: []inject.Change{added(tg)},
	},
	{
		name: "merge with malformed existing tags",
		in:   "X-SES-MESSAGE-TAGS: junk\n\n", opts: &inject.Options{Tags: tags("a", "1"), TagsMode: inject.Merge},
		err: parse.ErrInvalidTag,
	},
	{
		name: "merge with invalid existing tags",
		in:   "Subject: s\nX-SES-MESSAGE-TAGS: a=x.y\n\n", opts: &inject.Options{Tags: tags("a", "1"), TagsMode: inject.Merge},
		err: parse.ErrInvalidTag,
	},
	{
		name: "keep existing tags",
		in:   "X-SES-MESSAGE-TAGS: a=1\nx-ses-message-tags: b=2\n\n", opts: &inject.Options{Tags: tags("c", "3"), TagsMode: inject.Keep},
		want: "X-SES-MESSAGE-TAGS: a=1\nx-ses-message-tags: b=2\n\n",
	},
	{
		name: "keep adds when there are none",
		in:   base, opts: &inject.Options{Tags: tags("c", "3"), TagsMode: inject.Keep},
		want:    tg + ": c=3\r\n" + base,
		changes: []inject.Change{added(tg)},
	},
	{
		name: "keep with malformed existing tags leaves them",
		in:   "X-SES-MESSAGE-TAGS: junk\n\n", opts: &inject.Options{Tags: tags("a", "1"), TagsMode: inject.Keep},
		want: "X-SES-MESSAGE-TAGS: junk\n\n",
	},
	{
		name: "remove all and keep: existing tags go, new ones written",
		in:   "X-SES-MESSAGE-TAGS: a=1\nS: x\n\n", opts: &inject.Options{Tags: tags("c", "3"), TagsMode: inject.Keep, RemoveAllSES: true},
		want:    tg + ": c=3\nS: x\n\n",
		changes: []inject.Change{replaced(tg, 1)},
	},
	{
		name: "custom header replaced once",
		in:   "A: 1\nX-Campaign: old\nx-campaign : older\n\n", opts: &inject.Options{Headers: []parse.TagHeader{{Name: "X-Campaign", Value: "new"}}},
		want:    "A: 1\nX-Campaign: new\n\n",
		changes: []inject.Change{replaced("X-Campaign", 2), removed("x-campaign", 3)},
	},
	{
		name: "custom header written as given",
		in:   "X-CAMPAIGN: old\n\n", opts: &inject.Options{Headers: []parse.TagHeader{{Name: "x-Campaign", Value: "new"}}},
		want:    "x-Campaign: new\n\n",
		changes: []inject.Change{replaced("x-Campaign", 1)},
	},
	{
		name: "new fields on top in order",
		in:   base,
		opts: &inject.Options{ConfigurationSet: "cs", Tags: tags("a", "1", "b", "2"),
			Headers: []parse.TagHeader{{Name: "X-Campaign", Value: "spring"}, {Name: "X-Team", Value: "a@b.c"}}},
		want:    cs + ": cs\r\n" + tg + ": a=1, b=2\r\nX-Campaign: spring\r\nX-Team: a@b.c\r\n" + base,
		changes: []inject.Change{added(cs), added(tg), added("X-Campaign"), added("X-Team")},
	},
	{
		name: "some replaced, some added",
		in:   "From: a\r\nX-Team: old\r\nX-SES-MESSAGE-TAGS: z=0\r\n\r\n",
		opts: &inject.Options{ConfigurationSet: "cs", Tags: tags("a", "1"),
			Headers: []parse.TagHeader{{Name: "X-Campaign", Value: "spring"}, {Name: "X-Team", Value: "new"}}},
		want:    cs + ": cs\r\nX-Campaign: spring\r\nFrom: a\r\nX-Team: new\r\n" + tg + ": a=1\r\n\r\n",
		changes: []inject.Change{added(cs), added("X-Campaign"), replaced("X-Team", 2), replaced(tg, 3)},
	},
	{
		name:    "remove configuration set and tags",
		in:      "X-SES-CONFIGURATION-SET: a\nS: x\nx-ses-message-tags: b=1\nX-SES-FROM-ARN: arn\n\n",
		opts:    &inject.Options{RemoveConfigurationSet: true, RemoveTags: true},
		want:    "S: x\nX-SES-FROM-ARN: arn\n\n",
		changes: []inject.Change{removed(cs, 1), removed("x-ses-message-tags", 3)},
	},
	{
		name:    "remove all SES fields, not look-alikes",
		in:      "X-SES-CONFIGURATION-SET: a\nX-SESSION: 1\nX-Ses-From-Arn: arn\nX-SES : 2\nS: x\n\nX-SES-TENANT: body\n",
		opts:    &inject.Options{RemoveAllSES: true},
		want:    "X-SESSION: 1\nX-SES : 2\nS: x\n\nX-SES-TENANT: body\n",
		changes: []inject.Change{removed(cs, 1), removed("X-Ses-From-Arn", 3)},
	},
	{
		name:    "remove all and set",
		in:      "X-SES-TENANT: t\nS: x\nX-SES-CONFIGURATION-SET: old\n\n",
		opts:    &inject.Options{RemoveAllSES: true, ConfigurationSet: "new"},
		want:    "S: x\n" + cs + ": new\n\n",
		changes: []inject.Change{removed("X-SES-TENANT", 1), replaced(cs, 3)},
	},
	{
		name: "remove named headers",
		in:   "A: 1\nX-Old: 1\nB: 2\nx-old : 2\n\n", opts: &inject.Options{RemoveHeaders: []string{"X-OLD"}},
		want:    "A: 1\nB: 2\n\n",
		changes: []inject.Change{removed("X-Old", 2), removed("x-old", 4)},
	},
	{
		name: "remove everything leaves the blank line",
		in:   "X-SES-CONFIGURATION-SET: a\n\nbody\n", opts: &inject.Options{RemoveAllSES: true},
		want:    "\nbody\n",
		changes: []inject.Change{removed(cs, 1)},
	},
	{
		name: "mbox From line stays first",
		in:   "From a@example.com Mon\nSubject: s\n\n", opts: &inject.Options{ConfigurationSet: "a"},
		want:    "From a@example.com Mon\n" + cs + ": a\nSubject: s\n\n",
		changes: []inject.Change{added(cs)},
	},
	{
		name: "lead lines stay first",
		in:   " stray\r\n\tmore\r\nSubject: s\r\n\r\n", opts: &inject.Options{ConfigurationSet: "a"},
		want:    " stray\r\n\tmore\r\n" + cs + ": a\r\nSubject: s\r\n\r\n",
		changes: []inject.Change{added(cs)},
	},
	{
		name: "lead ending in bare CR at end of input",
		in:   "From x\n \r", opts: &inject.Options{ConfigurationSet: "a", AllowBareCR: true},
		want:    "From x\n \r\r\n" + cs + ": a\r\n",
		changes: []inject.Change{added(cs)},
	},
	{
		name: "no header: blank line added",
		in:   "hello\nworld\n", opts: &inject.Options{ConfigurationSet: "a", AllowNoHeader: true},
		want:    cs + ": a\n\nhello\nworld\n",
		changes: []inject.Change{added(cs)},
	},
	{
		name: "no header, bom",
		in:   "\xef\xbb\xbfSubject: x\r\n\r\nbody", opts: &inject.Options{ConfigurationSet: "a", AllowNoHeader: true},
		want:    cs + ": a\r\n\r\n\xef\xbb\xbfSubject: x\r\n\r\nbody",
		changes: []inject.Change{added(cs)},
	},
	{
		name: "header only without final newline",
		in:   "Subject: s", opts: &inject.Options{ConfigurationSet: "a"},
		want:    cs + ": a\r\nSubject: s",
		changes: []inject.Change{added(cs)},
	},
	{
		name: "last field without newline replaced",
		in:   "Subject: s\nX-SES-CONFIGURATION-SET: old", opts: &inject.Options{ConfigurationSet: "new"},
		want:    "Subject: s\n" + cs + ": new\n",
		changes: []inject.Change{replaced(cs, 2)},
	},
	{
		name:    "decoys in the body untouched",
		in:      "Subject: s\n\nX-SES-CONFIGURATION-SET: decoy\nX-SES-MESSAGE-TAGS: d=1\n",
		opts:    &inject.Options{ConfigurationSet: "a", Tags: tags("b", "2"), RemoveAllSES: true},
		want:    cs + ": a\n" + tg + ": b=2\nSubject: s\n\nX-SES-CONFIGURATION-SET: decoy\nX-SES-MESSAGE-TAGS: d=1\n",
		changes: []inject.Change{added(cs), added(tg)},
	},
	{
		name: "SES field after a non-field line refused",
		in:   "Subject: s\nnot a field\nX-SES-CONFIGURATION-SET: decoy\n", opts: &inject.Options{ConfigurationSet: "a"},
		err: headerblock.ErrLateField,
	},
	{
		name: "other field after a non-field line untouched",
		in:   "Subject: s\nnot a field\nX-Other: decoy\n\nX-SES-CONFIGURATION-SET: body\n", opts: &inject.Options{ConfigurationSet: "a"},
		want:    cs + ": a\nSubject: s\nnot a field\nX-Other: decoy\n\nX-SES-CONFIGURATION-SET: body\n",
		changes: []inject.Change{added(cs)},
	},
	{
		name: "custom header after a non-field line refused",
		in:   "Subject: s\n\xefnot\nx-campaign : old\n\n", opts: &inject.Options{Headers: []parse.TagHeader{{Name: "X-Campaign", Value: "a"}}},
		err: headerblock.ErrLateField,
	},
	{
		name: "strip of a field after a non-field line refused",
		in:   "Subject: s\n: weird\nX-SES-MESSAGE-TAGS: a=b\n\n", opts: &inject.Options{RemoveAllSES: true},
		err: headerblock.ErrLateField,
	},
	{
		name: "no header refused",
		in:   "hello\nworld\n", opts: &inject.Options{ConfigurationSet: "a"},
		err: headerblock.ErrNoHeader,
	},
	{
		name: "bom refused",
		in:   "\xef\xbb\xbfSubject: x\r\n\r\nbody", opts: &inject.Options{ConfigurationSet: "a"},
		err: headerblock.ErrBOM,
	},
	{
		name: "bare CR in a field refused",
		in:   "From: a\r\nSubject: x\rX-SES-CONFIGURATION-SET: evil\r\n\r\n", opts: &inject.Options{RemoveAllSES: true},
		err: headerblock.ErrBareCR,
	},
	{
		name: "bare CR as data on request",
		in:   "Subject: x\rY\r\n\r\n", opts: &inject.Options{ConfigurationSet: "a", AllowBareCR: true},
		want:    cs + ": a\r\nSubject: x\rY\r\n\r\n",
		changes: []inject.Change{added(cs)},
	},
	{
		name: "CR CR LF refused",
		in:   "Subject: x\r\r\n\r\n", opts: &inject.Options{ConfigurationSet: "a"},
		err: headerblock.ErrBareCR,
	},
	{
		name: "line starting with a bare CR refused",
		in:   "Subject: x\r\n\rX-SES-CONFIGURATION-SET: evil\r\n\r\n", opts: &inject.Options{ConfigurationSet: "a"},
		err: headerblock.ErrBareCR,
	},
	{
		name: "second mbox message refused",
		in:   "From a\nSubject: 1\n\nbody\n\nFrom b\nSubject: 2\n\n", opts: &inject.Options{ConfigurationSet: "a"},
		err: headerblock.ErrMbox,
	},
	{
		name: "mbox with one message",
		in:   "From a\nSubject: 1\n\nbody\n>From b\n", opts: &inject.Options{ConfigurationSet: "a"},
		want:    "From a\n" + cs + ": a\nSubject: 1\n\nbody\n>From b\n",
		changes: []inject.Change{added(cs)},
	},
	{
		name: "strip leaving nothing refused",
		in:   "X-SES-CONFIGURATION-SET: a\r\nX-SES-MESSAGE-TAGS: b=c\r\n", opts: &inject.Options{RemoveAllSES: true},
		err: inject.ErrNothingLeft,
	},
	{
		name: "strip leaving a body",
		in:   "X-SES-CONFIGURATION-SET: a\r\n\r\nbody", opts: &inject.Options{RemoveAllSES: true},
		want:    "\r\nbody",
		changes: []inject.Change{{Op: inject.Removed, Name: cs, Line: 1}},
	},
	{
		name: "replaced on top below a field with space before the colon",
		in:   "From: a\r\nSubject : s\r\nX-SES-CONFIGURATION-SET: old\r\n\r\n", opts: &inject.Options{ConfigurationSet: "a"},
		want:    cs + ": a\r\nFrom: a\r\nSubject : s\r\n\r\n",
		changes: []inject.Change{added(cs), {Op: inject.Removed, Name: cs, Line: 3}},
	},
	{
		name: "replaced in place with space before its own colon",
		in:   "From: a\r\nX-SES-CONFIGURATION-SET : old\r\nSubject : s\r\n\r\n", opts: &inject.Options{ConfigurationSet: "a"},
		want:    "From: a\r\n" + cs + ": a\r\nSubject : s\r\n\r\n",
		changes: []inject.Change{{Op: inject.Replaced, Name: cs, Line: 2}},
	},
	{
		name: "8-bit and NUL in other fields untouched",
		in:   "Subject: caf\xc3\xa9\x00\r\nX-SES-CONFIGURATION-SET: \xff\r\n\r\n\xfe", opts: &inject.Options{ConfigurationSet: "a"},
		want:    "Subject: caf\xc3\xa9\x00\r\n" + cs + ": a\r\n\r\n\xfe",
		changes: []inject.Change{replaced(cs, 2)},
	},
	{
		name: "empty message refused", in: "", opts: &inject.Options{ConfigurationSet: "a"},
		err: headerblock.ErrEmpty,
	},
	{
		name: "limits from options", in: "A: 1\nB: 2\n\n", opts: &inject.Options{ConfigurationSet: "a", Limits: headerblock.Limits{MaxFields: 1}},
		err: headerblock.ErrTooManyFields,
	},
}

func TestRewrite(t *testing.T) {
	for _, tc := range rewriteTests {
		t.Run(tc.name, func(t *testing.T) {
			rw, err := inject.NewRewriter(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			res, err := rw.Rewrite(&out, strings.NewReader(tc.in))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Rewrite error = %v, want %v", err, tc.err)
				}
				if out.Len() != 0 || res.Written != 0 {
					t.Errorf("refused input, but wrote %q (Written %d)", out.String(), res.Written)
				}
				if b, err := rewriteBytes([]byte(tc.in), tc.opts); !errors.Is(err, tc.err) || b != nil {
					t.Errorf("Bytes = %q, %v; want nil, %v", b, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Rewrite: %v", err)
			}
			if diff := cmp.Diff(tc.want, out.String()); diff != "" {
				t.Errorf("output mismatch (-want +got):\n%s", diff)
			}
			if res.Written != int64(out.Len()) {
				t.Errorf("Written = %d, wrote %d", res.Written, out.Len())
			}
			if res.Changed != (tc.want != tc.in) {
				t.Errorf("Changed = %v, want %v", res.Changed, tc.want != tc.in)
			}
			if diff := cmp.Diff(tc.changes, res.Changes, cmpopts.IgnoreFields(inject.Change{}, "Old", "New")); diff != "" {
				t.Errorf("Changes mismatch (-want +got):\n%s", diff)
			}

			// The other entry points agree.
			n, err := rewrite(new(bytes.Buffer), strings.NewReader(tc.in), tc.opts)
			if err != nil || n != res.Written {
				t.Errorf("inject.Rewrite = %d, %v; want %d", n, err, res.Written)
			}
			if b, err := rewriteBytes([]byte(tc.in), tc.opts); err != nil || string(b) != tc.want {
				t.Errorf("inject.Bytes = %q, %v", b, err)
			}

			// Idempotence: the output rewritten again is the same bytes.
			again, res2, err := rw.Bytes(out.Bytes())
			if err != nil {
				t.Fatalf("second rewrite: %v", err)
			}
			if !bytes.Equal(again, out.Bytes()) || res2.Changed || len(res2.Changes) != 0 {
				t.Errorf("second rewrite changed %q to %q (Changed %v, %v)", out.Bytes(), again, res2.Changed, res2.Changes)
			}
		})
	}
}

func TestRewriteLongTags(t *testing.T) {
	for _, eol := range []string{"\r\n", "\n"} {
		in := "Subject: s" + eol + eol + "body" + eol
		want := longTags(100)
		out, err := rewriteBytes([]byte(in), &inject.Options{Tags: want})
		if err != nil {
			t.Fatal(err)
		}
		m := split(out)
		tf, _ := named(m.fields, tg)
		if len(tf) != 1 {
			t.Fatalf("%d tags fields in %q", len(tf), out)
		}
		lines := strings.Split(strings.TrimSuffix(tf[0], eol), eol)
		if len(lines) < 3 {
			t.Errorf("tags field on %d lines, want it folded", len(lines))
		}
		for i, l := range lines {
			if len(l) > 998 {
				t.Errorf("line %d has %d bytes", i+1, len(l))
			}
			if i > 0 && (l[0] != ' ' || !strings.HasSuffix(lines[i-1], ",")) {
				t.Errorf("fold at line %d not after a comma: %q / %q", i+1, lines[i-1], l)
			}
		}
		info, err := parse.Inspect(bytes.NewReader(out), nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, info.Tags); diff != "" {
			t.Errorf("tags read back mismatch (-want +got):\n%s", diff)
		}
		if len(info.Findings) != 0 {
			t.Errorf("findings: %v", info.Findings)
		}
		if m.body != eol+"body"+eol {
			t.Errorf("body = %q", m.body)
		}
	}
}

// TestChangeValues checks the old and new values each change carries.
func TestChangeValues(t *testing.T) {
	in := "X-SES-MESSAGE-TAGS: a=1,\r\n b=2\r\nX-SES-CONFIGURATION-SET: old\r\nX-Campaign: c\r\n\r\nbody\r\n"
	opts := &inject.Options{
		ConfigurationSet: "news",
		Tags:             []parse.Tag{{Name: "b", Value: "3"}, {Name: "c", Value: "4"}},
		TagsMode:         inject.Merge,
		Headers:          []parse.TagHeader{{Name: "X-Team", Value: "t"}},
		RemoveHeaders:    []string{"X-Campaign"},
	}
	rw, err := inject.NewRewriter(opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := rw.Rewrite(io.Discard, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []inject.Change{
		{Op: inject.Added, Name: "X-Team", New: "t"},
		{Op: inject.Replaced, Name: sesfield.Tags, Line: 1, Old: "a=1, b=2", New: "a=1, b=3, c=4"},
		{Op: inject.Replaced, Name: sesfield.ConfigurationSet, Line: 3, Old: "old", New: "news"},
		{Op: inject.Removed, Name: "X-Campaign", Line: 4, Old: "c"},
	}
	if diff := cmp.Diff(want, res.Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}
