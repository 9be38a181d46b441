package parse_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/parse"
)

type finding struct {
	Line  int
	Code  string
	Error bool
}

func TestRead(t *testing.T) {
	const E, W = true, false // error, warning
	tests := []struct {
		name     string
		in       string
		headers  []string
		cs       string
		tags     []parse.Tag
		hdrs     []parse.TagHeader
		findings []finding
	}{
		{
			name: "clean",
			in:   "Subject: x\r\nX-SES-CONFIGURATION-SET: news\r\nX-SES-MESSAGE-TAGS: a=1, b=2\r\n\r\nbody\r\n",
			cs:   "news",
			tags: []parse.Tag{{"a", "1"}, {"b", "2"}},
		},
		{
			name: "none",
			in:   "Subject: x\n\n",
		},
		{
			name: "lower case, obsolete space, folded",
			in:   "x-ses-configuration-set : news\nX-Ses-Message-Tags: a=1,\n b=2\n\n",
			cs:   "news",
			tags: []parse.Tag{{"a", "1"}, {"b", "2"}},
		},
		{
			name:     "duplicate configuration set",
			in:       "X-SES-CONFIGURATION-SET: a\nSubject: x\nx-ses-configuration-set : b\n\n",
			cs:       "a",
			findings: []finding{{3, "config-set-duplicate", E}},
		},
		{
			name:     "invalid configuration set",
			in:       "X-SES-CONFIGURATION-SET: my set\n\n",
			cs:       "my set",
			findings: []finding{{1, "config-set-invalid", E}},
		},
		{
			name:     "empty configuration set",
			in:       "Subject: x\nX-SES-CONFIGURATION-SET:\n",
			findings: []finding{{2, "config-set-invalid", E}},
		},
		{
			name:     "duplicate tags field",
			in:       "X-SES-MESSAGE-TAGS: a=1\nX-SES-MESSAGE-TAGS: b=2\n",
			tags:     []parse.Tag{{"a", "1"}, {"b", "2"}},
			findings: []finding{{2, "tags-duplicate-field", E}},
		},
		{
			name:     "malformed tag",
			in:       "X-SES-MESSAGE-TAGS: a=1, junk\n",
			tags:     []parse.Tag{{"a", "1"}},
			findings: []finding{{1, "tag-malformed", E}},
		},
		{
			name:     "invalid tags",
			in:       "A: 1\nX-SES-MESSAGE-TAGS: a=x.y, ses:source-ip=1\n",
			tags:     []parse.Tag{{"a", "x.y"}, {"ses:source-ip", "1"}},
			findings: []finding{{2, "tag-invalid", E}, {2, "tag-invalid", E}},
		},
		{
			name:     "duplicate tag name in one field",
			in:       "X-SES-MESSAGE-TAGS: a=1,\r\n b=2, a=3\r\n\r\n",
			tags:     []parse.Tag{{"a", "1"}, {"b", "2"}, {"a", "3"}},
			findings: []finding{{1, "tag-duplicate-name", E}},
		},
		{
			name:     "duplicate tag name across fields",
			in:       "X-SES-MESSAGE-TAGS: a=1\nX-SES-MESSAGE-TAGS: a=2\n",
			tags:     []parse.Tag{{"a", "1"}, {"a", "2"}},
			findings: []finding{{2, "tags-duplicate-field", E}, {2, "tag-duplicate-name", E}},
		},
		{
			name:     "non-ascii tag",
			in:       "X-SES-MESSAGE-TAGS: a=caf\xc3\xa9\n",
			tags:     []parse.Tag{{"a", "caf\xc3\xa9"}},
			findings: []finding{{1, "ses-non-ascii", W}, {1, "tag-invalid", E}},
		},
		{
			name:     "nul in other X-SES field",
			in:       "Subject: \x00\nX-SES-TENANT: t\x00\n\n",
			findings: []finding{{2, "ses-non-ascii", W}},
		},
		{
			name:     "custom headers",
			in:       "X-Campaign: spring\nX-Other: 1\nx-campaign : fall\nX-Team: a b\n\n",
			headers:  []string{"X-Campaign", "X-Team"},
			hdrs:     []parse.TagHeader{{"X-Campaign", "spring"}, {"x-campaign", "fall"}, {"X-Team", "a b"}},
			findings: []finding{{3, "header-duplicate", E}, {4, "header-invalid", W}},
		},
		{
			name:     "from line counts",
			in:       "From a@example.com Mon\nX-SES-CONFIGURATION-SET: a b\n\n",
			cs:       "a b",
			findings: []finding{{2, "config-set-invalid", E}},
		},
		{
			name: "decoys in the body",
			in:   "Subject: x\n\nX-SES-CONFIGURATION-SET: bad value\nX-SES-MESSAGE-TAGS: junk\n",
		},
		{
			name:     "decoy after a non-field line",
			in:       "Subject: x\nnot a field\nX-SES-CONFIGURATION-SET: bad value\n",
			findings: []finding{{2, "header-ends-early", W}, {3, "header-late-field", E}},
		},
		{
			name:     "custom header after a non-field line",
			in:       "Subject: x\n\xef\xbb\xbfY: 1\nx-campaign : a\n\nX-Campaign: body\n",
			headers:  []string{"X-Campaign"},
			findings: []finding{{2, "header-ends-early", W}, {3, "header-late-field", E}},
		},
		{
			name:     "other field after a non-field line",
			in:       "Subject: x\nnot a field\nX-Other: a\n",
			findings: []finding{{2, "header-ends-early", W}},
		},
		{
			name:     "bare CR",
			in:       "A: 1\r\nSubject: x\rY\r\n\r\n",
			findings: []finding{{2, "header-bare-cr", E}},
		},
		{
			name:     "bom",
			in:       "\xef\xbb\xbfSubject: x\r\n\r\n",
			findings: []finding{{1, "no-header", E}},
		},
		{
			name:     "no header",
			in:       "X-SES-CONFIGURATION-SET in text\nX-SES-CONFIGURATION-SET: x\n",
			findings: []finding{{1, "no-header", E}},
		},
		{
			name:     "from line and no header",
			in:       "From x\r\nhello\r\n",
			findings: []finding{{2, "no-header", E}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for rname, r := range map[string]io.Reader{
				"plain":   strings.NewReader(tc.in),
				"onebyte": iotest.OneByteReader(strings.NewReader(tc.in)),
				"half":    iotest.HalfReader(strings.NewReader(tc.in)),
			} {
				in, err := parse.Inspect(r, &parse.Options{Headers: tc.headers})
				if err != nil {
					t.Fatalf("%s: ReadWithOptions: %v", rname, err)
				}
				if in.ConfigurationSet != tc.cs {
					t.Errorf("%s: ConfigurationSet = %q, want %q", rname, in.ConfigurationSet, tc.cs)
				}
				if diff := cmp.Diff(tc.tags, in.Tags); diff != "" {
					t.Errorf("%s: Tags mismatch (-want +got):\n%s", rname, diff)
				}
				if diff := cmp.Diff(tc.hdrs, in.Headers); diff != "" {
					t.Errorf("%s: Headers mismatch (-want +got):\n%s", rname, diff)
				}
				var got []finding
				for _, f := range in.Findings {
					got = append(got, finding{f.Line, f.Code, f.Error})
					if f.Message == "" || !strings.Contains(f.String(), f.Code) {
						t.Errorf("%s: finding %+v has no message", rname, f)
					}
				}
				if diff := cmp.Diff(tc.findings, got); diff != "" {
					t.Errorf("%s: Findings mismatch (-want +got):\n%s", rname, diff)
				}
			}
			// Read (no options) agrees on the SES fields.
			in, err := parse.Inspect(strings.NewReader(tc.in), nil)
			if err != nil {
				t.Fatal(err)
			}
			if in.ConfigurationSet != tc.cs || len(in.Headers) != 0 {
				t.Errorf("Read: ConfigurationSet %q, Headers %v", in.ConfigurationSet, in.Headers)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		r    io.Reader
		opts *parse.Options
		err  error
	}{
		{"empty", strings.NewReader(""), nil, headerblock.ErrEmpty},
		{"too many fields", strings.NewReader("A: 1\nB: 2\n\n"), &parse.Options{Limits: headerblock.Limits{MaxFields: 1}}, headerblock.ErrTooManyFields},
		{"line too long", strings.NewReader("A: 12345678\n\n"), &parse.Options{Limits: headerblock.Limits{MaxLineBytes: 8}}, headerblock.ErrLineTooLong},
		{"header too large", strings.NewReader("A: 1\nB: 2\n\n"), &parse.Options{Limits: headerblock.Limits{MaxHeaderBytes: 6}}, headerblock.ErrHeaderTooLarge},
		{"reader error", io.MultiReader(strings.NewReader("A: 1\n"), iotest.ErrReader(boom)), nil, boom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, err := parse.Inspect(tc.r, tc.opts)
			if !errors.Is(err, tc.err) || in != nil {
				t.Errorf("ReadWithOptions = %v, %v; want error %v", in, err, tc.err)
			}
		})
	}
}

func TestReadLeavesBody(t *testing.T) {
	boom := errors.New("boom")
	br := bufio.NewReaderSize(io.MultiReader(strings.NewReader("X-SES-CONFIGURATION-SET: a\r\n\r\nbody"), iotest.ErrReader(boom)), 16)
	in, err := parse.Inspect(br, nil)
	if err != nil {
		t.Fatalf("Read reached into the body: %v", err)
	}
	if in.ConfigurationSet != "a" {
		t.Errorf("ConfigurationSet = %q", in.ConfigurationSet)
	}
	rest, err := io.ReadAll(br)
	if string(rest) != "body" || !errors.Is(err, boom) {
		t.Errorf("rest of the reader = %q, %v; want %q, %v", rest, err, "body", boom)
	}
}

func TestInspectNilOptions(t *testing.T) {
	in, err := parse.Inspect(strings.NewReader("X-SES-CONFIGURATION-SET: a\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if in.ConfigurationSet != "a" {
		t.Errorf("Inspect(r, nil) = %+v", in)
	}
}

func TestFindingString(t *testing.T) {
	for _, tc := range []struct {
		f    parse.Finding
		want string
	}{
		{parse.Finding{Line: 3, Code: "tag-invalid", Error: true, Message: "m"}, "line 3: error: tag-invalid: m"},
		{parse.Finding{Line: 3, Column: 7, Code: "header-invalid", Message: "m"}, "line 3, column 7: warning: header-invalid: m"},
	} {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("Finding.String() = %q, want %q", got, tc.want)
		}
	}
}

// TestInspectReusesNothing runs Inspect on different messages at once and
// one after another: each Info holds only its own message's values, though
// the headers they are read into are reused.
func TestInspectReusesNothing(t *testing.T) {
	msg := func(i int) string {
		return fmt.Sprintf("X-SES-CONFIGURATION-SET: set%d\r\nX-SES-MESSAGE-TAGS: n=v%d\r\nSubject: %s\r\n\r\nbody\r\n", i, i, strings.Repeat("s", 100*i))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				n := (i*7 + g) % 50
				in, err := parse.Inspect(strings.NewReader(msg(n)), nil)
				if err != nil {
					t.Error(err)
					return
				}
				want := fmt.Sprintf("set%d", n)
				if in.ConfigurationSet != want || len(in.Tags) != 1 || in.Tags[0].Value != fmt.Sprintf("v%d", n) {
					t.Errorf("message %d: Inspect = %+v", n, in)
					return
				}
			}
		})
	}
	wg.Wait()
	// After an error, the next message is read afresh.
	if _, err := parse.Inspect(strings.NewReader(""), nil); err == nil {
		t.Fatal("empty message: no error")
	}
	in, err := parse.Inspect(strings.NewReader("Subject: x\r\n\r\n"), nil)
	if err != nil || in.ConfigurationSet != "" || len(in.Tags) != 0 || len(in.Findings) != 0 {
		t.Errorf("after an error: Inspect = %+v, %v", in, err)
	}
}
