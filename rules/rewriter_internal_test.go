package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// TestRewriterCache checks that messages with equal decisions share one
// rewriter, and that tag_from_header cannot grow the cache without bound.
func TestRewriterCache(t *testing.T) {
	set, err := Parse("r.toml", []byte("[default]\ntag_from_header = { c = \"X-C\" }\n"))
	if err != nil {
		t.Fatal(err)
	}
	rw := NewRewriter(nil)
	decide := func(h Header) (*Decision, error) { return set.Evaluate(&Envelope{}, h) }
	for i := range 2 * maxCached {
		msg := fmt.Sprintf("X-C: v%d\r\n\r\nbody\r\n", i%(maxCached+10))
		out, _, err := rw.Bytes([]byte(msg), decide)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("X-SES-MESSAGE-TAGS: c=v%d\r\n", i%(maxCached+10)) + msg; string(out) != want {
			t.Fatalf("message %d: got %q, want %q", i, out, want)
		}
	}
	if len(rw.cache) != maxCached {
		t.Errorf("cache holds %d rewriters, want %d", len(rw.cache), maxCached)
	}
}

// TestRewriterModes checks that Rewrite, Check and Bytes decide on the
// whole header, also past a reader's buffer, keep every byte, and refuse
// what decide refuses or rejects.
func TestRewriterModes(t *testing.T) {
	set, err := Parse("r.toml", []byte(`
[default]
config_set = "plain"
[[rule]]
header = { "List-Id" = "*weekly*" }
config_set = "news"
[[rule]]
mail_from = "*@spam.example"
reject = "no spam"
`))
	if err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("X-Pad: "+strings.Repeat("p", 90)+"\r\n", 800) // 78 KB
	body := strings.Repeat("0123456789abcdef\r\n", 2000)
	errDecide := errors.New("no envelope")
	cases := []struct {
		name, msg, want string
		from            string // the envelope sender; "fail" makes decide fail
		err             error
	}{
		{"default", "Subject: hi\r\n\r\n" + body, "X-SES-CONFIGURATION-SET: plain\r\n", "a@x", nil},
		{"late header field", "From: a@x\r\n" + pad + "List-Id: the weekly\r\n\r\n" + body, "X-SES-CONFIGURATION-SET: news\r\n", "a@x", nil},
		{"reject", "Subject: hi\r\n\r\n", "", "b@spam.example", ErrRejected},
		{"decide fails", "Subject: hi\r\n\r\n", "", "fail", errDecide},
	}
	rw := NewRewriter(nil)
	for _, tc := range cases {
		decide := func(h Header) (*Decision, error) {
			if tc.from == "fail" {
				return nil, errDecide
			}
			return set.Evaluate(&Envelope{MailFrom: tc.from}, h)
		}
		var buf bytes.Buffer
		_, err := rw.Rewrite(&buf, io.MultiReader(strings.NewReader(tc.msg)), decide)
		out, _, berr := rw.Bytes([]byte(tc.msg), decide)
		res, cerr := rw.Check(strings.NewReader(tc.msg), decide)
		if tc.err != nil {
			if !errors.Is(err, tc.err) || !errors.Is(berr, tc.err) || !errors.Is(cerr, tc.err) {
				t.Errorf("%s: Rewrite, Bytes, Check = %v, %v, %v; want %v", tc.name, err, berr, cerr, tc.err)
			}
			continue
		}
		if want := tc.want + tc.msg; err != nil || buf.String() != want || berr != nil || string(out) != want {
			t.Errorf("%s: Rewrite = %v, Bytes = %v, or output differs", tc.name, err, berr)
		}
		if cerr != nil || !res.Changed || res.Growth != int64(len(tc.want)) {
			t.Errorf("%s: Check = %+v, %v; want a change of %d bytes", tc.name, res, cerr, len(tc.want))
		}
	}
}
