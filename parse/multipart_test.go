package parse

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// readers returns the ways the tests feed a stream: whole, one byte at a
// time, and half of each read.
func readers(s string) map[string]io.Reader {
	return map[string]io.Reader{
		"whole":    strings.NewReader(s),
		"one byte": iotest.OneByteReader(strings.NewReader(s)),
		"half":     iotest.HalfReader(strings.NewReader(s)),
	}
}

// readParts reads the multipart body in r with boundary b and returns each
// part as "NAMES|BODY" and, last, how it ended: "EOF" or the error text.
func readParts(r io.Reader, b string) []string {
	mr := newMultipartReader(newFeeder(r, 1), b)
	var out []string
	for {
		p, h, err := mr.next()
		if err != nil {
			return append(out, err.Error())
		}
		var names []string
		for _, fd := range h {
			names = append(names, fd.name)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			return append(out, "read: "+err.Error())
		}
		out = append(out, strings.Join(names, ",")+"|"+string(body))
	}
}

// multipartTests are multipart bodies with boundary "b" and what
// readParts returns for them: go-message stops at the same place.
var multipartTests = []struct {
	name, in string
	want     []string
}{
	{"CRLF", "--b\r\nA: 1\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--b--\r\nepilogue\r\n", []string{"A|one", "|two", "EOF"}},
	{"LF", "--b\nA: 1\n\none\n--b\n\ntwo\n--b--\n", []string{"A|one", "|two", "EOF"}},
	{"transport padding", "--b \t\r\n\r\none\r\n--b--  \r\n", []string{"|one", "EOF"}},
	{"preamble", "pre\r\n--bx\r\n--b--x\r\n--b\r\n\r\none\r\n--b--", []string{"|one", "EOF"}},
	{"close-delimiter in preamble", "--b--\r\n--b\r\n\r\nx\r\n--b--\r\n", []string{"EOF"}},
	{"empty bodies", "--b\r\n\r\n--b\r\n\r\n\r\n--b--\r\n", []string{"|", "|", "EOF"}},
	{"empty line before delimiter", "--b\r\n\r\nx\r\n\r\n--b--\r\n", []string{"|x\r\n", "EOF"}},
	{"longer boundary", "--b\r\n\r\none\r\n--bb\r\n--b-\r\n", []string{"|one\r\n--bb", `a part ends and "--b-" follows instead of a boundary line`}},
	{"no close-delimiter", "--b\r\n\r\nx\r\n", []string{"|x", "the input ends before the next boundary line"}},
	{"cut in a delimiter", "--b\r\n\r\nx\r\n--", []string{"|x", "the input ends before the next boundary line"}},
	{"CR at the end", "--b\r\n\r\nx\r", []string{"|x", "the input ends before the next boundary line"}},
	{"delimiter at the end", "--b\r\n\r\nx\r\n--b", []string{"|x", "the input ends before the next boundary line"}},
	{"no delimiter", "text\r\n", []string{"the input ends before the next boundary line"}},
	{"header to the end", "--b\r\nA: 1", []string{"A|", "the input ends before the next boundary line"}},
	{"LF first, CRLF after", "--b\n\nx\r\n--b--\r\n", []string{"|x\r", `a part ends and "--b--" follows instead of a boundary line`}},
	{"CRLF first, LF after", "--b\r\n\r\nx\n--b\n\r\ny\r\n--b--\r\n", []string{"|x\n--b\n\r\ny", "EOF"}},
	{"not a delimiter", "--b\r\n\r\none\r\n--b-x\r\n", []string{"|one", `a part ends and "--b-x" follows instead of a boundary line`}},
	{"not a delimiter first", "--b\r\n\r\n--b\tx\r\n", []string{"|", `"--b\tx" stands between parts where a boundary line must`}},
	{"CRLF across pieces", "--b\r\n\r\n" + longLine + "\r\n--b--\r\n", []string{"|" + longLine, "EOF"}},
	{"preamble line over 4 KiB", longLine + "aa\r\n--b\r\n\r\nx\r\n--b--\r\n", []string{"a line of 4 KiB or more stands where a boundary line may"}},
	{"part header error", "--b\r\nA: 1\r\nbad\r\n\r\n--b--\r\n", []string{`line "bad" has no colon`}},
}

// longLine, followed by CRLF, fills a feeder's piece up to the CR.
var longLine = strings.Repeat("a", pieceSize-1)

// mimeSeeds returns the bodies of multipartTests as messages, for the fuzz
// targets.
func mimeSeeds() [][]byte {
	var seeds [][]byte
	for _, tc := range multipartTests {
		seeds = append(seeds, []byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n"+tc.in))
	}
	return seeds
}

// TestMultipartReader reads multipartTests fed whole, a byte at a time and
// half a read at a time.
func TestMultipartReader(t *testing.T) {
	for _, tc := range multipartTests {
		for how, r := range readers(tc.in) {
			if diff := cmp.Diff(tc.want, readParts(r, "b")); diff != "" {
				t.Errorf("%s (%s): (-want +got)\n%s", tc.name, how, diff)
			}
		}
	}
}

// TestMultipartLines checks the lines errors name, and the line of the
// last line that looks like a boundary line.
func TestMultipartLines(t *testing.T) {
	tests := []struct {
		name, in    string
		line, delim int
	}{
		{"expecting", "--b\r\n\r\none\r\n--b-x\r\n", 4, 1},
		{"unexpected", "x\r\n--b\r\n\r\n--b\tx\r\n", 4, 2},
		{"end of input", "--b\r\n\r\nx\r\n", 3, 1},
		{"LF close-delimiter in CRLF preamble", "--b--\n", 1, 1},
		{"none", "x\r\ny\r\n", 2, 0},
	}
	for _, tc := range tests {
		mr := newMultipartReader(newFeeder(strings.NewReader(tc.in), 1), "b")
		var err error
		for err == nil {
			_, _, err = mr.next()
		}
		se, ok := errors.AsType[*structureError](err)
		if !ok || se.line != tc.line || mr.delim != tc.delim {
			t.Errorf("%s: error %v at line %d, boundary-like line %d; want line %d, %d", tc.name, err, se.line, mr.delim, tc.line, tc.delim)
		}
	}
}

// TestReadPartHeader checks the fields, values and lines readPartHeader
// returns, and its errors.
func TestReadPartHeader(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // "NAME=VALUE@LINE ..." or "error@LINE: TEXT"
	}{
		{"fields", "A: 1\r\nB:2\r\n\r\nbody", "A=1@1 B=2@2"},
		{"folded", "A: x\r\n y \r\n\tz\r\nB: 2\n\n", "A=x y z@1 B=2@4"},
		{"space before colon", "A \t: 1\r\n\r\n", "A=1@1"},
		{"empty name skipped", ": x\r\nA: 1\r\n\r\n", "A=1@2"},
		{"empty", "\r\nA: 1\r\n", ""},
		{"to the end", "A: 1\r\nB: 2", "A=1@1 B=2@2"},
		{"initial continuation", " A: 1\r\n\r\n", `error@1: its first line " A: 1" starts with a space or tab, continuing nothing`},
		{"no colon", "A: 1\r\nbad\r\n more\r\n\r\n", `error@2: line "bad\r\n more" has no colon`},
		{"bad name", "A: 1\r\nFrom x 11:28\r\n\r\n", `error@2: field name "From x 11" has a byte outside 33..126`},
		{"8-bit name", "\xc4: 1\r\n\r\n", `error@1: field name "\xc4" has a byte outside 33..126`},
		{"colon in a continuation", "bad\r\n x: 1\r\n\r\n", `error@1: field name "bad\r\n x" has a byte outside 33..126`},
	}
	for _, tc := range tests {
		for how, r := range readers(tc.in) {
			if got := formatHeader(readPartHeader(newFeeder(r, 1))); got != tc.want {
				t.Errorf("%s (%s): got %q, want %q", tc.name, how, got, tc.want)
			}
		}
	}
}

// formatHeader renders what readPartHeader returned for TestReadPartHeader.
func formatHeader(h partHeader, err error) string {
	if se, ok := errors.AsType[*structureError](err); ok {
		return fmt.Sprintf("error@%d: %s", se.line, se.text)
	}
	var fs []string
	for _, fd := range h {
		fs = append(fs, fmt.Sprintf("%s=%s@%d", fd.name, fd.value, fd.line))
	}
	return strings.Join(fs, " ")
}

// TestReadPartHeaderBudget checks that a header over the budget is refused
// with errHeaderTooLarge, having read no further.
func TestReadPartHeaderBudget(t *testing.T) {
	f := newFeeder(strings.NewReader("A: "+strings.Repeat("x", 100)+"\r\n\r\nbody\r\n"), 1)
	f.arm(64)
	if _, err := readPartHeader(f); err != errHeaderTooLarge {
		t.Errorf("error %v, want errHeaderTooLarge", err)
	}
	if f.n != 105 {
		t.Errorf("read %d bytes, want the 105 of the first line", f.n)
	}
}

// TestUnfold checks values unfolded as go-message unfolds them.
func TestUnfold(t *testing.T) {
	for in, want := range map[string]string{
		" multipart/mixed;\r\n\tboundary=b\r\n": "multipart/mixed; boundary=b",
		"a\r\n \r\n b\r\n":                      "a b",
		" a\rb \r\n":                            "a\rb",
		"":                                      "",
	} {
		if got := unfold([]byte(in)); got != want {
			t.Errorf("unfold(%q) = %q, want %q", in, got, want)
		}
	}
}
