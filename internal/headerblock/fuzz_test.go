package headerblock_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/internal/testmsg"
)

var fuzzLimits = []headerblock.Limits{
	{},
	{MaxHeaderBytes: 2048, MaxLineBytes: 256, MaxFields: 16},
	{MaxHeaderBytes: -1, MaxLineBytes: -1, MaxFields: -1},
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

func FuzzRoundTrip(f *testing.F) {
	for _, tc := range readTests {
		f.Add([]byte(tc.in))
	}
	for _, s := range []string{
		"", "\n", "\r\n", "\r", " ", ":", "From ", "From x\r\n \r\nA: 1\r",
		"A: 1\r\n\r\nX-SES-CONFIGURATION-SET: decoy\r\n",
		"A\t: 1\n b\n\tc\n\n",
	} {
		f.Add([]byte(s))
	}
	testmsg.AddCorpusSeeds(f, 2, 32<<10)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lim := range fuzzLimits {
			br := bufio.NewReaderSize(bytes.NewReader(data), 16)
			h, err := headerblock.Read(br, lim)
			if err != nil {
				checkReadError(t, data, err)
				continue
			}
			rest, err := io.ReadAll(br)
			if err != nil {
				t.Fatal(err)
			}
			if got := append(h.AppendTo(nil), rest...); !bytes.Equal(got, data) {
				t.Fatalf("AppendTo + rest = %q, want %q", got, data)
			}
			if got := append(bytes.Clone(h.Original()), rest...); !bytes.Equal(got, data) {
				t.Fatalf("Original + rest = %q, want %q", got, data)
			}
			checkShape(t, h)
			checkInsert(t, h, rest)
			checkAmbiguities(t, h, data)
		}
	})
}

// checkReadError checks that err is one Read documents.
func checkReadError(t *testing.T, data []byte, err error) {
	t.Helper()
	se, ok := errors.AsType[*headerblock.SyntaxError](err)
	if !ok {
		t.Fatalf("Read(%q) error %T %v is not a *SyntaxError", data, err, err)
	}
	switch {
	case errors.Is(err, headerblock.ErrEmpty):
		if len(data) != 0 {
			t.Fatalf("Read(%q) = ErrEmpty for non-empty input", data)
		}
	case errors.Is(err, headerblock.ErrHeaderTooLarge),
		errors.Is(err, headerblock.ErrLineTooLong),
		errors.Is(err, headerblock.ErrTooManyFields):
	default:
		t.Fatalf("Read(%q) error %v is not an exported sentinel", data, err)
	}
	if se.Line < 1 && !errors.Is(err, headerblock.ErrEmpty) || se.Offset < 0 || se.Offset > int64(len(data)) || len(se.Text) > 80 {
		t.Fatalf("SyntaxError %+v out of range for %d bytes", se, len(data))
	}
}

// checkShape checks the header's parts with code of its own.
func checkShape(t *testing.T, h *headerblock.Header) {
	t.Helper()
	if eol := h.EOL(); eol != "\r\n" && eol != "\n" {
		t.Fatalf("EOL = %q", eol)
	}
	if from := h.From(); from != nil && !bytes.HasPrefix(from, []byte("From ")) {
		t.Fatalf("From = %q", from)
	}
	if lead := h.Lead(); lead != nil && !isWSP(lead[0]) {
		t.Fatalf("Lead = %q does not start with SP or HTAB", lead)
	}
	line := 0
	for _, f := range h.Fields() {
		raw := f.Raw()
		name := f.Name()
		if name == "" || !bytes.HasPrefix(raw, []byte(name)) {
			t.Fatalf("field %q has name %q", raw, name)
		}
		for i := 0; i < len(name); i++ {
			if c := name[i]; c <= ' ' || c >= 127 || c == ':' {
				t.Fatalf("field name %q has byte %#x", name, c)
			}
		}
		i := len(name)
		for i < len(raw) && isWSP(raw[i]) {
			i++
		}
		if i == len(raw) || raw[i] != ':' {
			t.Fatalf("field %q has no colon after its name", raw)
		}
		// Every line after the first is a continuation.
		for j := 0; j < len(raw)-1; j++ {
			if raw[j] == '\n' && !isWSP(raw[j+1]) {
				t.Fatalf("field %q has a line that is not a continuation", raw)
			}
		}
		if f.Line() <= line {
			t.Fatalf("field %q at line %d after line %d", raw, f.Line(), line)
		}
		line = f.Line()
	}
	tail := h.Tail()
	switch h.End() {
	case headerblock.EndBlank:
		if !bytes.HasPrefix(tail, []byte("\n")) && !bytes.HasPrefix(tail, []byte("\r\n")) {
			t.Fatalf("block ended by an empty line, but Tail = %q", tail)
		}
	case headerblock.EndBody:
		if len(tail) == 0 || isWSP(tail[0]) || tail[0] == '\n' || bytes.HasPrefix(tail, []byte("\r\n")) {
			t.Fatalf("block ended by a body line, but Tail = %q", tail)
		}
	case headerblock.EndEOF:
		if len(tail) != 0 {
			t.Fatalf("block ended by end of input, but Tail = %q", tail)
		}
	}
	if h.NoHeader() && (len(h.Fields()) > 0 || h.Lead() != nil || h.End() != headerblock.EndBody) {
		t.Fatalf("NoHeader with fields %d, lead %q, end %v", len(h.Fields()), h.Lead(), h.End())
	}
}

// checkInsert puts a new field on top and checks that reading the result
// finds it, then the old fields with their bytes, then the old body.
func checkInsert(t *testing.T, h *headerblock.Header, rest []byte) {
	t.Helper()
	old := h.Fields()
	nf, err := h.NewField("X-Fuzz", "inserted value")
	if err != nil {
		t.Fatal(err)
	}
	body := append(bytes.Clone(h.Tail()), rest...)
	if h.NoHeader() {
		body = append([]byte(h.EOL()), body...)
	}
	h.SetFields(append([]headerblock.Field{nf}, old...))
	out := append(h.AppendTo(nil), rest...)
	h.SetFields(old)

	br := bufio.NewReader(bytes.NewReader(out))
	h2, err := headerblock.Read(br, headerblock.Limits{MaxHeaderBytes: -1, MaxLineBytes: -1, MaxFields: -1})
	if err != nil {
		t.Fatalf("reading %q: %v", out, err)
	}
	rest2, _ := io.ReadAll(br)
	var want, got []string
	want = append(want, string(nf.Raw()))
	for _, f := range old {
		want = append(want, string(f.Raw()))
	}
	for _, f := range h2.Fields() {
		got = append(got, string(f.Raw()))
	}
	if !slices.Equal(want, got) {
		t.Fatalf("fields after insertion into %q (-want +got):\n%s", out, cmp.Diff(want, got))
	}
	if got := append(bytes.Clone(h2.Tail()), rest2...); !bytes.Equal(got, body) {
		t.Fatalf("body after insertion = %q, want %q", got, body)
	}
	if h2.EOL() != h.EOL() {
		t.Fatalf("EOL after insertion = %q, want %q", h2.EOL(), h.EOL())
	}
}

// checkAmbiguities checks what Ambiguities reports against a model: no
// header exactly when NoHeader; a bare CR reported exactly when the bytes
// up to the first empty line (those Read consumed) hold a CR not followed
// by LF; late fields only after an early end, inside what Read consumed
// past the block, each on its own line.
func checkAmbiguities(t *testing.T, h *headerblock.Header, data []byte) {
	t.Helper()
	all := func(headerblock.Field) bool { return true }
	var noHdr, bareCR, late int
	lines := bytes.Count(data, []byte("\n")) + 1
	for _, a := range h.Ambiguities(all) {
		if a.Line < 1 || a.Line > lines {
			t.Fatalf("%v: line out of 1..%d", a, lines)
		}
		switch {
		case errors.Is(a, headerblock.ErrNoHeader):
			noHdr++
		case errors.Is(a, headerblock.ErrBareCR):
			bareCR++
		case errors.Is(a, headerblock.ErrLateField):
			late++
		default:
			t.Fatalf("Ambiguities gave %v", a)
		}
	}
	if (noHdr == 1) != h.NoHeader() || noHdr > 1 {
		t.Fatalf("%d no-header errors, NoHeader %v", noHdr, h.NoHeader())
	}
	if late != len(h.Late()) || late > 0 && (h.End() != headerblock.EndBody || h.NoHeader()) {
		t.Fatalf("%d late fields, Late %d, End %v", late, len(h.Late()), h.End())
	}
	tail := h.Original()[h.Len():]
	for _, f := range h.Late() {
		if !bytes.Contains(tail, f.Raw()) || f.Name() == "" {
			t.Fatalf("late field %q is not in the tail %q", f.Raw(), tail)
		}
	}
	scan := h.Original()
	if h.NoHeader() {
		scan = scan[:h.Len()] // the From line only
	}
	want := 0
	for _, line := range bytes.SplitAfter(scan, []byte("\n")) {
		l := bytes.TrimSuffix(line, []byte("\r\n"))
		if bytes.IndexByte(l, '\r') >= 0 {
			want++
		}
	}
	if bareCR != want {
		t.Fatalf("%d bare-CR errors for %q, want %d", bareCR, scan, want)
	}
}
