package headerblock_test

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"github.com/sesmime/sesmime/internal/headerblock"
)

func TestAmbiguities(t *testing.T) {
	ses := func(f headerblock.Field) bool { return f.HasPrefix("X-SES-") }
	tests := []struct {
		name, in string
		want     []string // Error() of each, in order
	}{
		{"clean", "A: 1\r\n\r\nX-SES-X: body\r\n", nil},
		{"no header", "hello\nA: 1\n", []string{`line 1: no header block: first line is not a field: "hello"`}},
		{"bom", "\xef\xbb\xbfA: 1\r\n", []string{`line 1: no header block: starts with a UTF-8 BOM`}},
		{"from then no header", "From x\n: y\n", []string{`line 2: no header block: first line is not a field: ": y"`}},
		{"bare cr", "A: 1\r\nB: x\ry\r\n\r\n", []string{`line 2, column 5: CR without LF in the header: "B: x\ry"`}},
		{"cr cr lf", "A: 1\r\r\n\r\n", []string{`line 1, column 5: CR without LF in the header: "A: 1\r"`}},
		{"cr at end of input", "A: 1\r", []string{`line 1, column 5: CR without LF in the header: "A: 1\r"`}},
		{"cr in the ending line", "A: 1\r\n\rX\r\n\r\n", []string{`line 2, column 1: CR without LF in the header: "\rX"`}},
		{"cr after the empty line", "A: 1\r\n\r\nB\rC\r\n", nil},
		{"late ses field", "A: 1\n: w\nX-SES-A: 1\nX-Other: 2\n\nX-SES-B: body\n",
			[]string{`line 3: field after the end of the header block: X-SES-A follows line 2, which is not a field: ": w"`}},
		{"late after bom line", "A: 1\n\xef\xbb\xbfB: 2\n x-ses-a : 1\nx-ses-b : 1\n",
			[]string{`line 4: field after the end of the header block: x-ses-b follows line 2, which starts with a UTF-8 BOM`}},
		{"late with bom before the name", "A: 1\nno\n\xef\xbb\xbfX-SES-A: 1\n",
			[]string{`line 3: field after the end of the header block: X-SES-A follows line 2, which is not a field: "no"`}},
		{"late and bare cr in order", "A: 1\nno\rpe\nX-SES-A: 1\n\n", []string{
			`line 2, column 3: CR without LF in the header: "no\rpe"`,
			`line 3: field after the end of the header block: X-SES-A follows line 2, which is not a field: "no\rpe"`}},
	}
	for _, tc := range tests {
		for rname, mk := range readers() {
			h, err := headerblock.Read(mk(tc.in), headerblock.Limits{})
			if err != nil {
				t.Fatalf("%s/%s: %v", tc.name, rname, err)
			}
			var got []string
			for _, a := range h.Ambiguities(ses) {
				got = append(got, a.Error())
				if a.Reason() == "" || !strings.HasSuffix(a.Error(), a.Reason()) || errors.Unwrap(a) == nil {
					t.Errorf("%s: Reason %q does not end Error %q", tc.name, a.Reason(), a.Error())
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("%s/%s: Ambiguities =\n%s\nwant\n%s", tc.name, rname, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		}
	}
	h, _ := headerblock.Read(bufio.NewReader(strings.NewReader("\xef\xbb\xbfA: 1\n")), headerblock.Limits{})
	if a := h.Ambiguities(nil); len(a) != 1 || !errors.Is(a[0], headerblock.ErrBOM) || !errors.Is(a[0], headerblock.ErrNoHeader) {
		t.Errorf("BOM: %v, want ErrBOM wrapping ErrNoHeader", a)
	}
}

func TestLimitsExempt(t *testing.T) {
	ses := func(name []byte) bool { return strings.HasPrefix(strings.ToUpper(string(name)), "X-SES-") }
	lim := headerblock.Limits{MaxFields: 3, MaxHeaderBytes: 40, Exempt: ses}
	tests := []struct {
		in string
		ok bool
	}{
		{"A: 1\nB: 2\nC: 3\n\n", true},
		{"A: 1\nB: 2\nC: 3\nD: 4\n\n", false},                         // four own fields
		{"X-SES-A: 1\nA: 1\nB: 2\nX-SES-B: 2\nC: 3\n\n", true},        // two exempt ones apart
		{"X-SES-A: 1\nX-SES-B: 1\nX-SES-C: 1\nX-SES-D: 1\n\n", false}, // exempt ones within the limit too
		{"A: " + strings.Repeat("a", 30) + "\nX-SES-A: " + strings.Repeat("s", 25) + "\n\n", true},
		{"A: " + strings.Repeat("a", 40) + "\n\n", false},
		{"A: 1\nno\n" + strings.Repeat("x", 40) + "\n\n", false}, // the lines after an early end count
	}
	for _, tc := range tests {
		_, err := headerblock.Read(bufio.NewReaderSize(strings.NewReader(tc.in), 16), lim)
		if (err == nil) != tc.ok {
			t.Errorf("Read(%q) = %v, want ok %v", tc.in, err, tc.ok)
		}
	}
}
