package headerblock_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/internal/testmsg"
)

// fieldView is what a test compares of a Field.
type fieldView struct {
	Name, Value, Raw string
	Line             int
}

// headerView is what a test compares of a Header and the reader after it.
type headerView struct {
	End      headerblock.End
	NoHeader bool
	EOL      string
	From     string
	Lead     string
	Fields   []fieldView
	Tail     string
	Rest     string // what the reader still holds
}

func view(h *headerblock.Header, rest []byte) headerView {
	v := headerView{
		End:      h.End(),
		NoHeader: h.NoHeader(),
		EOL:      h.EOL(),
		From:     string(h.From()),
		Lead:     string(h.Lead()),
		Tail:     string(h.Tail()),
		Rest:     string(rest),
	}
	for _, f := range h.Fields() {
		v.Fields = append(v.Fields, fieldView{f.Name(), f.Value(), string(f.Raw()), f.Line()})
	}
	return v
}

var readTests = []struct {
	name string
	in   string
	want headerView // Rest is left empty: it is computed from Tail
}{
	{
		name: "lf",
		in:   "A: 1\nB: 2\n\nbody\n",
		want: headerView{End: headerblock.EndBlank, EOL: "\n", Tail: "\n",
			Fields: []fieldView{{"A", "1", "A: 1\n", 1}, {"B", "2", "B: 2\n", 2}}},
	},
	{
		name: "crlf",
		in:   "A: 1\r\nB: 2\r\n\r\nbody\r\n",
		want: headerView{End: headerblock.EndBlank, EOL: "\r\n", Tail: "\r\n",
			Fields: []fieldView{{"A", "1", "A: 1\r\n", 1}, {"B", "2", "B: 2\r\n", 2}}},
	},
	{
		name: "mixed endings",
		in:   "A: 1\r\nB: 2\nC: 3\r\n\nbody\r\n",
		want: headerView{End: headerblock.EndBlank, EOL: "\r\n", Tail: "\n",
			Fields: []fieldView{{"A", "1", "A: 1\r\n", 1}, {"B", "2", "B: 2\n", 2}, {"C", "3", "C: 3\r\n", 3}}},
	},
	{
		name: "first line lf decides",
		in:   "A: 1\nB: 2\r\n\r\n",
		want: headerView{End: headerblock.EndBlank, EOL: "\n", Tail: "\r\n",
			Fields: []fieldView{{"A", "1", "A: 1\n", 1}, {"B", "2", "B: 2\r\n", 2}}},
	},
	{
		name: "bare cr inside value",
		in:   "A: 1\r2\r\nB: x\r\n\r\n",
		want: headerView{End: headerblock.EndBlank, EOL: "\r\n", Tail: "\r\n",
			Fields: []fieldView{{"A", "1\r2", "A: 1\r2\r\n", 1}, {"B", "x", "B: x\r\n", 2}}},
	},
	{
		name: "bare cr line ends block",
		in:   "A: 1\r\n\rX\r\nbody",
		want: headerView{End: headerblock.EndBody, EOL: "\r\n", Tail: "\rX\r\nbody",
			Fields: []fieldView{{"A", "1", "A: 1\r\n", 1}}},
	},
	{
		name: "bare cr is not a line ending",
		in:   "A: 1\rB: 2\r\r\n\r\n",
		want: headerView{End: headerblock.EndBlank, EOL: "\r\n", Tail: "\r\n",
			Fields: []fieldView{{"A", "1\rB: 2\r", "A: 1\rB: 2\r\r\n", 1}}},
	},
	{
		name: "mbox from line",
		in:   "From a@example.com Mon Jan  1 00:00:00 2026\nA: 1\n\nbody\n",
		want: headerView{End: headerblock.EndBlank, EOL: "\n", Tail: "\n",
			From:   "From a@example.com Mon Jan  1 00:00:00 2026\n",
			Fields: []fieldView{{"A", "1", "A: 1\n", 2}}},
	},
	{
		name: "from line without eol",
		in:   "From a@example.com",
		want: headerView{End: headerblock.EndEOF, EOL: "\r\n", From: "From a@example.com"},
	},
	{
		name: "from line only gives eol",
		in:   "From a@example.com\n",
		want: headerView{End: headerblock.EndEOF, EOL: "\n", From: "From a@example.com\n"},
	},
	{
		name: "from line then field without eol",
		in:   "From x\r\nA: 1",
		want: headerView{End: headerblock.EndEOF, EOL: "\r\n", From: "From x\r\n",
			Fields: []fieldView{{"A", "1", "A: 1", 2}}},
	},
	{
		name: "from line then first line decides",
		in:   "From x\r\nA: 1\n\n",
		want: headerView{End: headerblock.EndBlank, EOL: "\n", From: "From x\r\n", Tail: "\n",
			Fields: []fieldView{{"A", "1", "A: 1\n", 2}}},
	},
	{
		name: "from line then text",
		in:   "From x\nhello\n",
		want: headerView{End: headerblock.EndBody, NoHeader: true, EOL: "\n", From: "From x\n", Tail: "hello\n"},
	},
	{
		name: "from colon is a field",
		in:   "From: a@example.com\n\n",
		want: headerView{End: headerblock.EndBlank, EOL: "\n", Tail: "\n",
			Fields: []fieldView{{"From", "a@example.com", "From: a@example.com\n", 1}}},
	},
	{
		name: "second from line is body",
		in:   "From x\nFrom y\n",
		want: headerView{End: headerblock.EndBody, NoHeader: true, EOL: "\n", From: "From x\n", Tail: "From y\n"},
	},
	{
		name: "leading continuation lines",
		in:   " x\r\n\ty\r\nA: 1\r\n\r\n",
		want: headerView{End: headerblock.EndBlank, EOL: "\r\n", Lead: " x\r\n\ty\r\n", Tail: "\r\n",
			Fields: []fieldView{{"A", "1", "A: 1\r\n", 3}}},
	},
	{
		name: "lead after from line",
		in:   "From x\n y\nA: 1\n",
		want: headerView{End: headerblock.EndEOF, EOL: "\n", From: "From x\n", Lead: " y\n",
			Fields: []fieldView{{"A", "1", "A: 1\n", 3}}},
	},
	{
		name: "lead ending in bare cr after from line",
		in:   "From x\n \r",
		want: headerView{End: headerblock.EndEOF, EOL: "\r\n", From: "From x\n", Lead: " \r"},
	},
	{
		name: "lead only without eol",
		in:   " x",
		want: headerView{End: headerblock.EndEOF, EOL: "\r\n", Lead: " x"},
	},
	{
		name: "header only with final newline",
		in:   "A: 1\nB: 2\n",
		want: headerView{End: headerblock.EndEOF, EOL: "\n",
			Fields: []fieldView{{"A", "1", "A: 1\n", 1}, {"B", "2", "B: 2\n", 2}}},
	},
	{
		name: "header only without final newline",
		in:   "A: 1\nB: 2",
		want: headerView{End: headerblock.EndEOF, EOL: "\n",
			Fields: []fieldView{{"A", "1", "A: 1\n", 1}, {"B", "2", "B: 2", 2}}},
	},
	{
		name: "single field without eol",
		in:   "A: 1",
		want: headerView{End: headerblock.EndEOF, EOL: "\r\n",
			Fields: []fieldView{{"A", "1", "A: 1", 1}}},
	},
	{
		name: "plain text",
		in:   "hello world\nsecond line\n",
		want: headerView{End: headerblock.EndBody, NoHeader: true, EOL: "\n", Tail: "hello world\n"},
	},
	{
		name: "plain text without eol",
		in:   "hello world",
		want: headerView{End: headerblock.EndBody, NoHeader: true, EOL: "\r\n", Tail: "hello world"},
	},
	{
		name: "bom",
		in:   "\xef\xbb\xbfSubject: x\r\n\r\nbody",
		want: headerView{End: headerblock.EndBody, NoHeader: true, EOL: "\r\n", Tail: "\xef\xbb\xbfSubject: x\r\n"},
	},
	{
		name: "colon first",
		in:   ":x\n\n",
		want: headerView{End: headerblock.EndBody, NoHeader: true, EOL: "\n", Tail: ":x\n"},
	},
	{
		name: "name without colon at eof",
		in:   "Subject",
		want: headerView{End: headerblock.EndBody, NoHeader: true, EOL: "\r\n", Tail: "Subject"},
	},
	{
		name: "lone cr",
		in:   "\r",
		want: headerView{End: headerblock.EndBody, NoHeader: true, EOL: "\r\n", Tail: "\r"},
	},
	{
		name: "blank first line",
		in:   "\nbody\n",
		want: headerView{End: headerblock.EndBlank, EOL: "\n", Tail: "\n"},
	},
	{
		name: "crlf blank first line",
		in:   "\r\nbody\r\n",
		want: headerView{End: headerblock.EndBlank, EOL: "\r\n", Tail: "\r\n"},
	},
	{
		name: "nul and 8-bit bytes in values",
		in:   "Subject: caf\xc3\xa9 \x00\xff\r\nX: \x01\x7f\r\n\r\n\x00body",
		want: headerView{End: headerblock.EndBlank, EOL: "\r\n", Tail: "\r\n",
			Fields: []fieldView{{"Subject", "caf\xc3\xa9 \x00\xff", "Subject: caf\xc3\xa9 \x00\xff\r\n", 1}, {"X", "\x01\x7f", "X: \x01\x7f\r\n", 2}}},
	},
	{
		name: "8-bit name ends block",
		in:   "A: 1\nN\xe4me: v\n\n",
		want: headerView{End: headerblock.EndBody, EOL: "\n", Tail: "N\xe4me: v\n\n",
			Fields: []fieldView{{"A", "1", "A: 1\n", 1}}},
	},
	{
		name: "obsolete space before colon",
		in:   "Subject : hi\nX-Y\t \t: z\n\n",
		want: headerView{End: headerblock.EndBlank, EOL: "\n", Tail: "\n",
			Fields: []fieldView{{"Subject", "hi", "Subject : hi\n", 1}, {"X-Y", "z", "X-Y\t \t: z\n", 2}}},
	},
	{
		name: "whitespace-only line continues",
		in:   "A: 1\n \nB: 2\n\n",
		want: headerView{End: headerblock.EndBlank, EOL: "\n", Tail: "\n",
			Fields: []fieldView{{"A", "1", "A: 1\n \n", 1}, {"B", "2", "B: 2\n", 3}}},
	},
	{
		name: "folded value",
		in:   "Subject: a\r\n b\r\n\tc\r\nX:\r\n\r\n",
		want: headerView{End: headerblock.EndBlank, EOL: "\r\n", Tail: "\r\n",
			Fields: []fieldView{{"Subject", "a b\tc", "Subject: a\r\n b\r\n\tc\r\n", 1}, {"X", "", "X:\r\n", 4}}},
	},
	{
		name: "line without colon ends block",
		in:   "A: 1\nnot a header\nB: 2\n\n",
		want: headerView{End: headerblock.EndBody, EOL: "\n", Tail: "not a header\nB: 2\n\n",
			Fields: []fieldView{{"A", "1", "A: 1\n", 1}}},
	},
	{
		name: "name then space then text ends block",
		in:   "A: 1\r\nB x: 2\r\n",
		want: headerView{End: headerblock.EndBody, EOL: "\r\n", Tail: "B x: 2\r\n",
			Fields: []fieldView{{"A", "1", "A: 1\r\n", 1}}},
	},
	{
		name: "long body line after header is not limited",
		in:   "A: 1\n\n" + strings.Repeat("x y ", 40000) + "\n",
		want: headerView{End: headerblock.EndBlank, EOL: "\n", Tail: "\n",
			Fields: []fieldView{{"A", "1", "A: 1\n", 1}}},
	},
	{
		name: "long field within limits",
		in:   "A: " + strings.Repeat("v", 20000) + "\r\n\r\n",
		want: headerView{End: headerblock.EndBlank, EOL: "\r\n", Tail: "\r\n",
			Fields: []fieldView{{"A", strings.Repeat("v", 20000), "A: " + strings.Repeat("v", 20000) + "\r\n", 1}}},
	},
}

// readers returns ways to present in to Read.
func readers() map[string]func(string) *bufio.Reader {
	return map[string]func(string) *bufio.Reader{
		"default": func(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) },
		"size16":  func(s string) *bufio.Reader { return bufio.NewReaderSize(strings.NewReader(s), 16) },
		"onebyte": func(s string) *bufio.Reader { return bufio.NewReader(iotest.OneByteReader(strings.NewReader(s))) },
		"half":    func(s string) *bufio.Reader { return bufio.NewReaderSize(iotest.HalfReader(strings.NewReader(s)), 64) },
		"dataerr": func(s string) *bufio.Reader { return bufio.NewReader(iotest.DataErrReader(strings.NewReader(s))) },
		"onebyte2": func(s string) *bufio.Reader {
			return bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(s)), 16)
		},
	}
}

func TestReadRoundTrip(t *testing.T) {
	for _, tc := range readTests {
		for rname, mk := range readers() {
			t.Run(tc.name+"/"+rname, func(t *testing.T) {
				br := mk(tc.in)
				h, err := headerblock.Read(br, headerblock.Limits{})
				if err != nil {
					t.Fatalf("Read(%q): %v", tc.in, err)
				}
				rest, err := io.ReadAll(br)
				if err != nil {
					t.Fatal(err)
				}
				got := view(h, rest)
				want := tc.want
				want.Rest = tc.in[len(tc.in)-len(rest):]
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Read(%q) mismatch (-want +got):\n%s", tc.in, diff)
				}
				checkRoundTrip(t, tc.in, h, rest)
			})
		}
	}
}

// checkRoundTrip checks that h, written back, followed by rest, is in.
func checkRoundTrip(t *testing.T, in string, h *headerblock.Header, rest []byte) {
	t.Helper()
	if got := string(h.AppendTo(nil)) + string(rest); got != in {
		t.Errorf("AppendTo + rest = %q, want %q", got, in)
	}
	if got := string(h.Original()) + string(rest); got != in {
		t.Errorf("Original + rest = %q, want %q", got, in)
	}
	var buf bytes.Buffer
	n, err := h.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Errorf("WriteTo = %d, %v; wrote %d bytes", n, err, buf.Len())
	}
	if got := buf.String() + string(rest); got != in {
		t.Errorf("WriteTo + rest = %q, want %q", got, in)
	}
	if h.Len()+len(h.Tail()) != len(h.Original()) {
		t.Errorf("Len %d + len(Tail) %d != len(Original) %d", h.Len(), len(h.Tail()), len(h.Original()))
	}
	var block []byte
	block = append(block, h.From()...)
	block = append(block, h.Lead()...)
	for _, f := range h.Fields() {
		block = append(block, f.Raw()...)
	}
	if string(block) != string(h.Original()[:h.Len()]) {
		t.Errorf("From + Lead + fields = %q, want the block %q", block, h.Original()[:h.Len()])
	}
}

func TestReadValues(t *testing.T) {
	in := "Subject: a\r\nx-ses-tag: 1\r\nX-SES-TAG : 2\r\n\r\n"
	h, err := headerblock.Read(bufio.NewReader(strings.NewReader(in)), headerblock.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1", "2"}, h.Values("X-Ses-Tag")); diff != "" {
		t.Errorf("Values mismatch (-want +got):\n%s", diff)
	}
	if got := h.Values("Nope"); got != nil {
		t.Errorf("Values(Nope) = %q, want nil", got)
	}
	if f := h.Fields()[2]; !f.Is("x-ses-TAG") || f.Is("X-SES-TA") {
		t.Errorf("Is mismatch on %q", f.Raw())
	}
}

func TestSetFields(t *testing.T) {
	tests := []struct {
		name, in string
		add      [][2]string // fields put on top
		drop     bool        // drop the existing fields
		want     string
	}{
		{"crlf", "A: 1\r\n\r\nbody", [][2]string{{"X", "y"}}, false, "X: y\r\nA: 1\r\n\r\nbody"},
		{"lf", "A: 1\n\nbody", [][2]string{{"X", "y"}}, false, "X: y\nA: 1\n\nbody"},
		{"no header gets blank line", "hello\nworld\n", [][2]string{{"X", "y"}}, false, "X: y\n\nhello\nworld\n"},
		{"no header without eol", "hello", [][2]string{{"X", "y"}}, false, "X: y\r\n\r\nhello"},
		{"from line without eol", "From x", [][2]string{{"X", "y"}}, false, "From x\r\nX: y\r\n"},
		{"from line then text", "From x\nhello\n", [][2]string{{"X", "y"}}, false, "From x\nX: y\n\nhello\n"},
		{"lead stays first", " x\nA: 1\n", [][2]string{{"X", "y"}}, false, " x\nX: y\nA: 1\n"},
		{"lead without eol", " x", [][2]string{{"X", "y"}}, false, " x\r\nX: y\r\n"},
		{"last field without eol stays last", "A: 1\nB: 2", [][2]string{{"X", "y"}}, false, "X: y\nA: 1\nB: 2"},
		{"drop all", "A: 1\nB: 2\n\nbody", nil, true, "\nbody"},
		{"drop all no header", "hello\n", nil, true, "hello\n"},
		{"empty value", "A: 1\n\n", [][2]string{{"X", ""}}, false, "X:\nA: 1\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tc.in))
			h, err := headerblock.Read(br, headerblock.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			var fs []headerblock.Field
			for _, a := range tc.add {
				f, err := h.NewField(a[0], a[1])
				if err != nil {
					t.Fatal(err)
				}
				if f.Line() != 0 {
					t.Errorf("NewField Line = %d, want 0", f.Line())
				}
				fs = append(fs, f)
			}
			if !tc.drop {
				fs = append(fs, h.Fields()...)
			}
			h.SetFields(fs)
			rest, _ := io.ReadAll(br)
			got := string(h.AppendTo(nil)) + string(rest)
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			// Reading the result again finds the new fields first.
			h2, err := headerblock.Read(bufio.NewReader(strings.NewReader(got)), headerblock.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range tc.add {
				if f := h2.Fields()[i]; f.Name() != a[0] || f.Value() != a[1] {
					t.Errorf("field %d read back as %q", i, f.Raw())
				}
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	many := strings.Repeat("A: 1\n", 30000)
	longLine := "A: " + strings.Repeat("x", 100<<10) + "\n\n"
	tests := []struct {
		name string
		in   string
		lim  headerblock.Limits
		err  error // nil: accepted
		line int
		off  int64
	}{
		{name: "empty", in: "", err: headerblock.ErrEmpty, line: 0},
		{name: "line too long", in: "A: 0123456789\n\n", lim: headerblock.Limits{MaxLineBytes: 10}, err: headerblock.ErrLineTooLong, line: 1},
		{name: "line at limit", in: "A: 0123456\n\n", lim: headerblock.Limits{MaxLineBytes: 11}},
		{name: "line too long after from", in: "From x\nB: 1\nA: 0123456789\n\n", lim: headerblock.Limits{MaxLineBytes: 10}, err: headerblock.ErrLineTooLong, line: 3, off: 12},
		{name: "from line too long", in: "From " + strings.Repeat("x", 20) + "\n", lim: headerblock.Limits{MaxLineBytes: 10}, err: headerblock.ErrLineTooLong, line: 1},
		{name: "lead too long", in: " " + strings.Repeat("x", 20) + "\n", lim: headerblock.Limits{MaxLineBytes: 10}, err: headerblock.ErrLineTooLong, line: 1},
		{name: "continuation too long", in: "A: 1\n " + strings.Repeat("x", 20) + "\n", lim: headerblock.Limits{MaxLineBytes: 10}, err: headerblock.ErrLineTooLong, line: 2, off: 5},
		{name: "default line limit", in: longLine, err: headerblock.ErrLineTooLong, line: 1},
		{name: "no line limit", in: longLine, lim: headerblock.Limits{MaxLineBytes: -1}},
		{name: "header too large", in: "A: 1\nB: 2\nC: 3\nD: 4\nE: 5\n\n", lim: headerblock.Limits{MaxHeaderBytes: 20}, err: headerblock.ErrHeaderTooLarge, line: 5, off: 20},
		{name: "header at limit", in: "A: 1\nB: 2\nC: 3\nD: 4\n\nbody", lim: headerblock.Limits{MaxHeaderBytes: 20}},
		{name: "header too large in a long line", in: "A: " + strings.Repeat("x", 100) + "\n", lim: headerblock.Limits{MaxHeaderBytes: 50, MaxLineBytes: -1}, err: headerblock.ErrHeaderTooLarge, line: 1},
		{name: "too many fields", in: "A: 1\nB: 2\nC: 3\n", lim: headerblock.Limits{MaxFields: 2}, err: headerblock.ErrTooManyFields, line: 3, off: 10},
		{name: "fields at limit", in: "A: 1\nB: 2\nC: 3\n", lim: headerblock.Limits{MaxFields: 3}},
		{name: "default field limit", in: many, err: headerblock.ErrTooManyFields, line: 20001, off: 100000},
		{name: "no field limit", in: many, lim: headerblock.Limits{MaxFields: -1}},
		{name: "all limits off", in: many + longLine, lim: headerblock.Limits{MaxFields: -1, MaxLineBytes: -1, MaxHeaderBytes: -1}},
		{name: "limit 1", in: "A: 1\n", lim: headerblock.Limits{MaxHeaderBytes: 1, MaxLineBytes: 1, MaxFields: 1}, err: headerblock.ErrLineTooLong, line: 1},
		{name: "body not limited", in: "A: 1\n\n" + strings.Repeat("x", 1000), lim: headerblock.Limits{MaxHeaderBytes: 5, MaxLineBytes: 5, MaxFields: 1}},
	}
	for _, tc := range tests {
		for rname, mk := range readers() {
			if len(tc.in) > 1000 && rname != "default" && rname != "size16" {
				continue // keep the one-byte readers fast
			}
			t.Run(tc.name+"/"+rname, func(t *testing.T) {
				br := mk(tc.in)
				h, err := headerblock.Read(br, tc.lim)
				if tc.err == nil {
					if err != nil {
						t.Fatalf("ReadWithLimits: %v", err)
					}
					rest, _ := io.ReadAll(br)
					checkRoundTrip(t, tc.in, h, rest)
					return
				}
				if h != nil {
					t.Errorf("ReadWithLimits returned a header with error %v", err)
				}
				if !errors.Is(err, tc.err) {
					t.Fatalf("ReadWithLimits error = %v, want %v", err, tc.err)
				}
				se, ok := errors.AsType[*headerblock.SyntaxError](err)
				if !ok {
					t.Fatalf("error %T is not a *SyntaxError", err)
				}
				if se.Line != tc.line || se.Offset != tc.off {
					t.Errorf("SyntaxError at line %d offset %d, want line %d offset %d", se.Line, se.Offset, tc.line, tc.off)
				}
				if len(se.Text) > 80 {
					t.Errorf("SyntaxError.Text has %d bytes, want <= 80", len(se.Text))
				}
				if se.Error() == "" {
					t.Error("empty Error()")
				}
			})
		}
	}
}

func TestReadReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	msg := []byte("A: 1\r\nB: 2\r\n c\r\nC: 3\r\n\r\nbody\r\n")
	for n := 0; n < 24; n++ { // every cut inside the header block
		for _, size := range []int{16, 4096} {
			br := bufio.NewReaderSize(&testmsg.ErrAfter{Data: msg, N: n, Err: boom}, size)
			h, err := headerblock.Read(br, headerblock.Limits{})
			if !errors.Is(err, boom) || h != nil {
				t.Errorf("cut at %d, buffer %d: Read = %v, %v; want error %v", n, size, h, err, boom)
			}
		}
	}
	t.Run("timeout", func(t *testing.T) {
		br := bufio.NewReader(iotest.TimeoutReader(strings.NewReader("A: 1\nB: 2\n")))
		if _, err := headerblock.Read(br, headerblock.Limits{}); !errors.Is(err, iotest.ErrTimeout) {
			t.Errorf("Read = %v, want %v", err, iotest.ErrTimeout)
		}
	})
	t.Run("error reader", func(t *testing.T) {
		if _, err := headerblock.Read(bufio.NewReader(iotest.ErrReader(boom)), headerblock.Limits{}); !errors.Is(err, boom) {
			t.Errorf("Read = %v, want %v", err, boom)
		}
	})
	t.Run("no progress", func(t *testing.T) {
		if _, err := headerblock.Read(bufio.NewReader(testmsg.ZeroReader{}), headerblock.Limits{}); !errors.Is(err, io.ErrNoProgress) {
			t.Errorf("Read = %v, want %v", err, io.ErrNoProgress)
		}
	})
	t.Run("error in the body is not read", func(t *testing.T) {
		br := bufio.NewReaderSize(&testmsg.ErrAfter{Data: msg, N: 25, Err: boom}, 16)
		h, err := headerblock.Read(br, headerblock.Limits{})
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if len(h.Fields()) != 3 {
			t.Errorf("got %d fields, want 3", len(h.Fields()))
		}
	})
}

func TestReset(t *testing.T) {
	var h headerblock.Header
	if err := h.Reset(bufio.NewReader(strings.NewReader("A: 1\nB: 2\n\n")), headerblock.Limits{}); err != nil {
		t.Fatal(err)
	}
	if err := h.Reset(bufio.NewReader(strings.NewReader("C: 3\r\n")), headerblock.Limits{}); err != nil {
		t.Fatal(err)
	}
	want := headerView{End: headerblock.EndEOF, EOL: "\r\n", Fields: []fieldView{{"C", "3", "C: 3\r\n", 1}}}
	if diff := cmp.Diff(want, view(&h, nil)); diff != "" {
		t.Errorf("after Reset (-want +got):\n%s", diff)
	}
	err := h.Reset(bufio.NewReader(strings.NewReader("A: 1\nB: 2\n")), headerblock.Limits{MaxFields: 1})
	if !errors.Is(err, headerblock.ErrTooManyFields) {
		t.Fatalf("Reset = %v, want ErrTooManyFields", err)
	}
	if n := len(h.Fields()); n != 0 {
		t.Errorf("after a failed Reset h has %d fields, want 0", n)
	}
}

func TestEndString(t *testing.T) {
	for e, want := range map[headerblock.End]string{
		headerblock.EndEOF:   "end of input",
		headerblock.EndBlank: "empty line",
		headerblock.EndBody:  "non-field line",
		headerblock.End(9):   "End(?)",
	} {
		if got := e.String(); got != want {
			t.Errorf("End(%d).String() = %q, want %q", int(e), got, want)
		}
	}
}
