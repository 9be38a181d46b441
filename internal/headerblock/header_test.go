package headerblock_test

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"github.com/sesmime/sesmime/internal/headerblock"
)

func headerWithEOL(t *testing.T, eol string) *headerblock.Header {
	t.Helper()
	h, err := headerblock.Read(bufio.NewReader(strings.NewReader("A: 1"+eol+eol)), headerblock.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// words returns n words of size bytes each, joined by sep.
func words(n, size int, sep string) string {
	w := make([]string, n)
	for i := range w {
		w[i] = strings.Repeat(string(rune('a'+i%26)), size)
	}
	return strings.Join(w, sep)
}

func TestNewField(t *testing.T) {
	tests := []struct {
		name, fname, value, eol string
		want                    string // "" when only the fold properties are checked
	}{
		{name: "crlf", fname: "X-A", value: "v", eol: "\r\n", want: "X-A: v\r\n"},
		{name: "lf", fname: "X-A", value: "v", eol: "\n", want: "X-A: v\n"},
		{name: "empty value", fname: "X-A", value: "", eol: "\r\n", want: "X-A:\r\n"},
		{name: "htab kept", fname: "X-A", value: "a\tb", eol: "\n", want: "X-A: a\tb\n"},
		{name: "case kept", fname: "x-SeS-a", value: "V", eol: "\n", want: "x-SeS-a: V\n"},
		{name: "998 bytes on one line", fname: "X", value: strings.Repeat("v", 995), eol: "\r\n", want: "X: " + strings.Repeat("v", 995) + "\r\n"},
		{name: "998 bytes with spaces", fname: "X", value: words(249, 3, " "), eol: "\n", want: "X: " + words(249, 3, " ") + "\n"},
		{name: "999 bytes fold before last word", fname: "X", value: strings.Repeat("v", 991) + " abcd", eol: "\r\n", want: "X: " + strings.Repeat("v", 991) + "\r\n abcd\r\n"},
		{name: "tag list folds after commas", fname: "X-SES-MESSAGE-TAGS", value: words(200, 20, ", "), eol: "\r\n"},
		{name: "many lines", fname: "X", value: words(3000, 5, " "), eol: "\n"},
		{name: "htab fold", fname: "X", value: words(500, 4, "\t"), eol: "\r\n"},
		{name: "name 997 empty value", fname: strings.Repeat("N", 997), value: "", eol: "\n", want: strings.Repeat("N", 997) + ":\n"},
		{name: "long name", fname: strings.Repeat("N", 900), value: words(100, 7, " "), eol: "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := headerWithEOL(t, tc.eol)
			f, err := h.NewField(tc.fname, tc.value)
			if err != nil {
				t.Fatalf("NewField: %v", err)
			}
			raw := string(f.Raw())
			if tc.want != "" && raw != tc.want {
				t.Errorf("NewField = %q, want %q", raw, tc.want)
			}
			if f.Name() != tc.fname || f.Value() != tc.value || !f.Is(strings.ToLower(tc.fname)) {
				t.Errorf("Name, Value = %q, %q; want %q, %q", f.Name(), f.Value(), tc.fname, tc.value)
			}
			checkFolding(t, raw, tc.eol, tc.fname, tc.value)
		})
	}
}

// checkFolding checks, without the code under test, that raw is name and
// value on lines of at most 998 bytes, folded only before a SP or HTAB that
// follows a non-blank byte, each line ending in eol.
func checkFolding(t *testing.T, raw, eol, name, value string) {
	t.Helper()
	if !strings.HasSuffix(raw, eol) {
		t.Fatalf("%q does not end in %q", raw, eol)
	}
	lines := strings.Split(strings.TrimSuffix(raw, eol), eol)
	for i, l := range lines {
		if len(l) > headerblock.MaxLineLength {
			t.Errorf("line %d has %d bytes", i+1, len(l))
		}
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d %q has a stray CR or LF", i+1, l)
		}
		if i == 0 {
			continue
		}
		if l == "" || (l[0] != ' ' && l[0] != '\t') || strings.Trim(l, " \t") == "" {
			t.Errorf("continuation line %d %q does not start with whitespace then text", i+1, l)
		}
		if p := lines[i-1]; p == "" || p[len(p)-1] == ' ' || p[len(p)-1] == '\t' {
			t.Errorf("line %d %q ends in whitespace before a fold", i, p)
		}
	}
	joined := strings.Join(lines, "")
	want := name + ":"
	if value != "" {
		want += " " + value
	}
	if joined != want {
		t.Errorf("unfolded %q, want %q", joined, want)
	}
}

func TestNewFieldErrors(t *testing.T) {
	tests := []struct {
		name, fname, value string
		err                error
		off                int // 0-based byte at fault, -1 for none
	}{
		{name: "empty name", fname: "", value: "v", err: headerblock.ErrInvalidName, off: -1},
		{name: "colon in name", fname: "X:Y", value: "v", err: headerblock.ErrInvalidName, off: 1},
		{name: "space in name", fname: "X Y", value: "v", err: headerblock.ErrInvalidName, off: 1},
		{name: "tab in name", fname: "X\t", value: "v", err: headerblock.ErrInvalidName, off: 1},
		{name: "cr in name", fname: "X\r", value: "v", err: headerblock.ErrInvalidName, off: 1},
		{name: "lf in name", fname: "\nX", value: "v", err: headerblock.ErrInvalidName, off: 0},
		{name: "nul in name", fname: "X\x00", value: "v", err: headerblock.ErrInvalidName, off: 1},
		{name: "non-ascii name", fname: "X\xc3\xa9", value: "v", err: headerblock.ErrInvalidName, off: 1},
		{name: "del in name", fname: "\x7f", value: "v", err: headerblock.ErrInvalidName, off: 0},
		{name: "cr in value", fname: "X", value: "a\rb", err: headerblock.ErrInvalidValue, off: 1},
		{name: "lf in value", fname: "X", value: "a\nB: injected", err: headerblock.ErrInvalidValue, off: 1},
		{name: "crlf in value", fname: "X", value: "a\r\n\r\nbody", err: headerblock.ErrInvalidValue, off: 1},
		{name: "nul in value", fname: "X", value: "\x00", err: headerblock.ErrInvalidValue, off: 0},
		{name: "non-ascii value", fname: "X", value: "caf\xc3\xa9", err: headerblock.ErrInvalidValue, off: 3},
		{name: "del in value", fname: "X", value: "ab\x7f", err: headerblock.ErrInvalidValue, off: 2},
		{name: "999 bytes unbroken", fname: "X", value: strings.Repeat("v", 996), err: headerblock.ErrCannotFold, off: -1},
		{name: "long token after a space", fname: "X", value: "a " + strings.Repeat("v", 1000), err: headerblock.ErrCannotFold, off: -1},
		{name: "only trailing space", fname: "X", value: strings.Repeat("v", 995) + " ", err: headerblock.ErrCannotFold, off: -1},
		{name: "long name", fname: strings.Repeat("N", 999), value: "v", err: headerblock.ErrCannotFold, off: -1},
		{name: "long name empty value", fname: strings.Repeat("N", 998), value: "", err: headerblock.ErrCannotFold, off: -1},
	}
	h := headerWithEOL(t, "\r\n")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := h.NewField(tc.fname, tc.value)
			if !errors.Is(err, tc.err) {
				t.Fatalf("NewField = %q, %v; want %v", f.Raw(), err, tc.err)
			}
			fe, ok := errors.AsType[*headerblock.FieldError](err)
			if !ok {
				t.Fatalf("error %T is not a *FieldError", err)
			}
			if fe.Column != tc.off+1 || fe.Name != tc.fname {
				t.Errorf("FieldError{Name: %q, Column: %d}, want {%q, %d}", fe.Name, fe.Column, tc.fname, tc.off+1)
			}
			if fe.Error() == "" {
				t.Error("empty Error()")
			}
		})
	}
}

func TestNewFieldZeroHeader(t *testing.T) {
	var h headerblock.Header
	f, err := h.NewField("X", "y")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(f.Raw()); got != "X: y\r\n" {
		t.Errorf("NewField on a zero Header = %q, want CRLF ending", got)
	}
}
