package parse_test

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/internal/testmsg"
	"github.com/sesmime/sesmime/parse"
)

var update = flag.Bool("update", false, "rewrite testdata/lint/*.golden")

// lintOpts are the options of the golden cases that need some; the others
// lint with nil options.
var lintOpts = map[string]*parse.Options{
	"header-invalid":   {Headers: []string{"X-Campaign"}},
	"header-duplicate": {Headers: []string{"X-Campaign"}},
	"ses-fields-v2":    {API: parse.V2},
	"size-too-large":   {API: parse.V1},
}

// lintPad is how many generated body bytes follow a case's file.
var lintPad = map[string]int64{
	"size-too-large": parse.V1.MaxSize() * 3 / 4, // just over 10 MiB after base64, with the header
}

// formatFindings renders findings one a line: "LINE: SEVERITY: CODE: message".
func formatFindings(fs []parse.Finding) string {
	var sb strings.Builder
	for _, f := range fs {
		if f.Column > 0 {
			fmt.Fprintf(&sb, "%d:%d: %s: %s: %s\n", f.Line, f.Column, severity(f), f.Code, f.Message)
			continue
		}
		fmt.Fprintf(&sb, "%d: %s: %s: %s\n", f.Line, severity(f), f.Code, f.Message)
	}
	return sb.String()
}

// severity returns "error" or "warning".
func severity(f parse.Finding) string {
	if f.Error {
		return "error"
	}
	return "warning"
}

// TestLintGolden lints testdata/lint/CODE.eml and compares the findings
// with CODE.golden. Each case must report its own code; clean.eml must
// report nothing.
func TestLintGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/lint/*.eml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/lint/*.eml: %v", err)
	}
	seen := map[string]bool{}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".eml")
		t.Run(name, func(t *testing.T) {
			msg := readFileT(t, file)
			var r io.Reader = bytes.NewReader(msg)
			if n := lintPad[name]; n > 0 {
				r = io.MultiReader(r, &lineGen{n: n})
			}
			in, err := parse.Lint(r, lintOpts[name])
			if err != nil {
				t.Fatalf("Lint: %v", err)
			}
			got := formatFindings(in.Findings)
			golden := strings.TrimSuffix(file, ".eml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(string(readFileT(t, golden)), got); diff != "" {
				t.Errorf("Lint(%s) mismatch (-want +got):\n%s", name, diff)
			}
			for _, f := range in.Findings {
				seen[f.Code] = true
			}
			if name == "clean" {
				if len(in.Findings) > 0 {
					t.Errorf("clean message has findings:\n%s", got)
				}
				return
			}
			if !slices.ContainsFunc(in.Findings, func(f parse.Finding) bool { return f.Code == name }) {
				t.Errorf("case %s does not report code %s:\n%s", name, name, got)
			}
			if !slices.IsSortedFunc(in.Findings, func(a, b parse.Finding) int { return a.Line - b.Line }) {
				t.Errorf("findings not sorted by line:\n%s", got)
			}
			// A reader that returns one byte at a time finds the same.
			if lintPad[name] == 0 {
				in2, err := parse.Lint(iotest.OneByteReader(bytes.NewReader(msg)), lintOpts[name])
				if err != nil {
					t.Fatal(err)
				}
				if got2 := formatFindings(in2.Findings); got2 != got {
					t.Errorf("OneByteReader: findings differ:\n%s", cmp.Diff(got, got2))
				}
			}
		})
	}
	for _, code := range allCodes {
		if !slices.Contains(files, "testdata/lint/"+code+".eml") {
			t.Errorf("no testdata/lint/%s.eml", code)
		}
	}
}

// allCodes lists every finding code; each has a golden case.
var allCodes = []string{
	"config-set-invalid", "config-set-duplicate", "tags-duplicate-field",
	"tag-malformed", "tag-invalid", "tag-duplicate-name",
	"header-invalid", "header-duplicate", "ses-non-ascii",
	"header-ends-early", "no-header",
	"duplicate-field", "size-too-large", "line-too-long", "header-bare-cr",
	"header-nul", "header-8bit", "dkim-signs-ses", "inbound-leftover",
	"ses-fields-v2", "mime-no-boundary", "mime-no-final-boundary",
	"mime-part-header", "mime-multipart-syntax",
}

func readFileT(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A lineGen generates n bytes of 76-byte base64-like lines ending in CRLF,
// optionally inside a multipart part.
type lineGen struct {
	n, off int64
}

const genLine = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n"

func (g *lineGen) Read(p []byte) (int, error) {
	if g.off >= g.n {
		return 0, io.EOF
	}
	i := 0
	for i < len(p) && g.off < g.n {
		c := copy(p[i:], genLine[g.off%int64(len(genLine)):])
		c = int(min(int64(c), g.n-g.off))
		i += c
		g.off += int64(c)
	}
	return i, nil
}

// TestLintStreaming lints 40 MiB messages from a generator and checks that
// memory does not grow with the body: the bytes allocated stay far below
// the message size.
func TestLintStreaming(t *testing.T) {
	const size = 40 << 20
	tests := []struct {
		name   string
		head   string
		tail   string
		code   string // expected finding
		opts   *parse.Options
		header int
	}{
		{name: "text", head: "Subject: big\r\n\r\n", code: "size-too-large"},
		{name: "multipart", head: "Subject: big\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n", tail: "\r\n--b--\r\n", code: "size-too-large"},
		{name: "v1", head: "Subject: big\r\n\r\n", code: "size-too-large", opts: &parse.Options{API: parse.V1}},
		{name: "one long line", head: "Subject: big\r\n\r\n", code: "line-too-long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = &lineGen{n: size}
			if tc.code == "line-too-long" {
				body = io.LimitReader(zeros{}, size/2)
			}
			r := io.MultiReader(strings.NewReader(tc.head), body, strings.NewReader(tc.tail))
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			in, err := parse.Lint(r, tc.opts)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("Lint allocated %d bytes for a %d-byte message; want under 1 MiB", alloc, size)
			}
			if !slices.ContainsFunc(in.Findings, func(f parse.Finding) bool { return f.Code == tc.code }) {
				t.Errorf("no %s finding:\n%s", tc.code, formatFindings(in.Findings))
			}
			for _, f := range in.Findings {
				if f.Code != "size-too-large" && f.Code != "line-too-long" {
					t.Errorf("unexpected finding %v", f)
				}
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

// TestLintSize checks the size limit at its edge: 4*ceil(n/3) bytes after
// base64.
func TestLintSize(t *testing.T) {
	head := "Subject: s\r\n\r\n"
	limit := int64(parse.V1.MaxSize()) / 4 * 3 // largest n with Base64Len(n) <= MaxSizeV1
	for _, tc := range []struct {
		n    int64
		want bool
	}{{limit, false}, {limit + 1, true}} {
		r := io.MultiReader(strings.NewReader(head), &lineGen{n: tc.n - int64(len(head))})
		in, err := parse.Lint(r, &parse.Options{API: parse.V1})
		if err != nil {
			t.Fatal(err)
		}
		got := slices.ContainsFunc(in.Findings, func(f parse.Finding) bool { return f.Code == "size-too-large" })
		if got != tc.want {
			t.Errorf("%d bytes (%d after base64): size-too-large = %v, want %v", tc.n, parse.Base64Len(tc.n), got, tc.want)
		}
	}
}

func TestAPIString(t *testing.T) {
	for a, want := range map[parse.API]string{parse.V1: "v1", parse.V2: "v2", parse.SMTP: "smtp"} {
		if got := a.String(); got != want {
			t.Errorf("API(%d).String() = %q, want %q", int(a), got, want)
		}
	}
}

// TestLintErrors: a header the rewriter refuses, and a read error in the
// body, are errors, not findings.
func TestLintErrors(t *testing.T) {
	if _, err := parse.Lint(strings.NewReader(""), nil); !errors.Is(err, headerblock.ErrEmpty) {
		t.Errorf("empty: %v, want ErrEmpty", err)
	}
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nbody"), iotest.ErrReader(boom))
	if _, err := parse.Lint(r, nil); !errors.Is(err, boom) {
		t.Errorf("read error: %v, want boom", err)
	}
}

// TestLintCorpus lints every message of SESMIME_CORPUS: no panic, and no
// error on a message whose header the rewriter accepts.
func TestLintCorpus(t *testing.T) {
	files := testmsg.CorpusFiles(t)
	counts := map[string]int{}
	refused := 0
	for _, file := range files {
		name := filepath.Base(file)
		msg := readFileT(t, file)
		_, herr := headerblock.Read(bufio.NewReader(bytes.NewReader(msg)), headerblock.Limits{})
		in, err := parse.Lint(bytes.NewReader(msg), nil)
		switch {
		case herr != nil && err != nil:
			refused++
		case err != nil:
			t.Errorf("%s: the rewriter accepts it, Lint fails: %v", name, err)
		case herr != nil:
			t.Errorf("%s: the rewriter refuses it (%v), Lint does not", name, herr)
		default:
			for _, f := range in.Findings {
				counts[f.Code]++
			}
		}
	}
	t.Logf("corpus: %d messages, %d refused by the header reader", len(files), refused)
	for _, code := range slices.Sorted(maps.Keys(counts)) {
		t.Logf("%6d %s", counts[code], code)
	}
}

// TestLintMIMELines checks the lines of MIME findings in nested parts.
func TestLintMIMELines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // "LINE CODE"
	}{
		{"nested part header", "Subject: x\n" + // 1
			"Content-Type: multipart/mixed; boundary=a\n" + // 2
			"\n" + // 3
			"preamble\n" + // 4
			"--a\n" + // 5
			"Content-Type: text/plain\n" + // 6
			"\n" + // 7
			"one\n" + // 8
			"--a\n" + // 9
			"Content-Type: multipart/alternative;\n" + // 10
			" boundary=\"b\"\n" + // 11
			"\n" + // 12
			"--b\n" + // 13
			"Content-Type: text/plain\n" + // 14
			"\n" + // 15
			"two\n" + // 16
			"--b\n" + // 17
			"X-Folded: a\n" + // 18
			" b\n" + // 19
			"bad line\n" + // 20
			"\n" + // 21
			"three\n" + // 22
			"--b--\n" + // 23
			"--a--\n", // 24
			"20 " + "mime-part-header"},
		{"nested no boundary", "Subject: x\r\n" + // 1
			"Content-Type: multipart/mixed; boundary=a\r\n" + // 2
			"\r\n" + // 3
			"--a\r\n" + // 4
			"Content-Disposition: inline\r\n" + // 5
			"Content-Type: multipart/related\r\n" + // 6
			"\r\n" + // 7
			"x\r\n" + // 8
			"--a--\r\n", // 9
			"6 " + "mime-no-boundary"},
		{"nested no final boundary", "Content-Type: multipart/mixed; boundary=a\n" + // 1
			"\n" + // 2
			"--a\n" + // 3
			"Content-Type: multipart/mixed; boundary=b\n" + // 4
			"\n" + // 5
			"--b\n" + // 6
			"\n" + // 7
			"inner\n" + // 8
			"--a--\n", // 9
			"8 " + "mime-no-final-boundary"},
		{"field without a name", "Content-Type: multipart/mixed; boundary=a\n" + // 1
			"\n" + // 2
			"--a\n" + // 3
			": skipped\n" + // 4
			"Content-Type: multipart/mixed\n" + // 5
			"\n" + // 6
			"--a--\n", // 7
			"5 " + "mime-no-boundary"},
		{"attached message header", "Content-Type: multipart/mixed; boundary=a\n" + // 1
			"\n" + // 2
			"--a\n" + // 3
			"Content-Type: message/rfc822\n" + // 4
			"\n" + // 5
			"Subject: inner\n" + // 6
			"Content-Type: multipart/mixed\n" + // 7
			"\n" + // 8
			"body\n" + // 9
			"--a--\n", // 10
			"7 " + "mime-no-boundary"},
	}
	for _, tc := range tests {
		in, err := parse.Lint(strings.NewReader(tc.in), nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range in.Findings {
			got = append(got, fmt.Sprintf("%d %s", f.Line, f.Code))
		}
		if !slices.Contains(got, tc.want) {
			t.Errorf("%s: findings %q, want %q\n%s", tc.name, got, tc.want, formatFindings(in.Findings))
		}
	}
}

// TestLintPartHeaderLines checks the line of each kind of part header
// error: the first line of the field at fault.
func TestLintPartHeaderLines(t *testing.T) {
	head := "Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: text/plain\n" // lines 1-4
	for _, tc := range []struct {
		name, part string
		want       int
	}{
		{"no colon", "bad line\n\nx\n--a--\n", 5},
		{"no colon, folded", "bad line\n more\n\nx\n--a--\n", 5},
		{"bad key", "From x 11:28\n\nx\n--a--\n", 5},
		{"bad key at end", "X-A: 1\nFrom x 11:28\n", 6},
		{"no colon at end", "bad line\n", 5},
		{"no colon, then the last line", "bad line\nx", 5},
		{"bad key, folded", "From x 11:28\n more\n\nx\n--a--\n", 5},
	} {
		in, err := parse.Lint(strings.NewReader(head+tc.part), nil)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%d: error: %s:", tc.want, "mime-part-header")
		if got := formatFindings(in.Findings); !strings.Contains(got, want) {
			t.Errorf("%s: got\n%s\nwant %s", tc.name, got, want)
		}
	}
	// A part header starting with a continuation line.
	in, err := parse.Lint(strings.NewReader("Content-Type: multipart/mixed; boundary=a\n\n--a\n cont\n\nx\n--a--\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := formatFindings(in.Findings); !strings.Contains(got, "4: error: "+"mime-part-header") {
		t.Errorf("initial continuation: got\n%s", got)
	}
}
