package milter

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/mimeheaders"
)

// A Field is a header field as a milter sees it: the name without the
// colon and the value after it, with its leading space (leading-space mode)
// and folds as LF.
type Field struct {
	Name  string
	Value string
}

// An EditOp is a kind of milter header modification.
type EditOp int

const (
	Insert EditOp = iota // SMFIR_INSHEADER: a new field at Index (0 = top)
	Change               // SMFIR_CHGHEADER: the Index-th field named Name gets Value
	Delete               // SMFIR_CHGHEADER with an empty value: the Index-th field named Name goes
)

func (o EditOp) String() string {
	switch o {
	case Insert:
		return "insert"
	case Change:
		return "change"
	case Delete:
		return "delete"
	}
	return fmt.Sprintf("EditOp(%d)", int(o))
}

// An Edit is one header modification sent to the MTA at end of message.
type Edit struct {
	Op    EditOp
	Index int    // Insert: position among all fields; Change, Delete: 1-based among fields named Name (ASCII case ignored)
	Name  string // the field name to write (Insert, Change) or to find (Delete)
	Value string // Insert, Change: the value after the colon, leading space included, folds as LF
}

func (e Edit) String() string {
	if e.Op == Delete {
		return fmt.Sprintf("delete %s[%d]", e.Name, e.Index)
	}
	return fmt.Sprintf("%s %s[%d] %q", e.Op, e.Name, e.Index, e.Value)
}

// ErrFieldMismatch is wrapped by a *FieldError.
var ErrFieldMismatch = errors.New("header field the rewrite cannot read as the MTA does")

// A FieldError reports a header field the MTA showed that the library
// reads differently (a bare CR, a fold not followed by white space, a name
// the library does not take for a field name), so that edits computed
// from it could touch the wrong field.
type FieldError struct {
	Index int    // 0-based index of the field among those the MTA showed
	Name  string // the field's name, cut to 80 bytes
	Err   error  // ErrFieldMismatch, or the library's error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("header field %d %q: %v", e.Index+1, e.Name, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// Plan returns the edits that turn the fields the MTA showed into what
// rw's rewrite makes of the same header, and the rewrite's Result. The
// rewrite runs on the header rebuilt from fields (CRLF line endings), so
// the new values, their positions and their number are exactly the
// library's: new fields on top (inserted at index 0, in reverse order),
// a replaced field changed in place, duplicates deleted from the last
// index down. leadingSpace says the values carry the space after the colon
// (SMFIP_HDR_LEADSPC); without it the MTA dropped one space, which is put
// back before the rewrite and dropped again from the values sent.
//
// The edits are checked by applying them to fields as Postfix and
// Sendmail do ([Apply]); a mismatch is an error, never a wrong edit.
func Plan(fields []Field, rw *inject.Rewriter, leadingSpace bool, lim mimeheaders.Limits) ([]Edit, inject.Result, error) {
	hd, err := readHeader(fields, leadingSpace, lim)
	if err != nil {
		return nil, inject.Result{}, err
	}
	return hd.plan(rw)
}

// header is the header the MTA showed, rebuilt and read by the library.
type header struct {
	fields  []Field
	leading bool
	raw     []byte // the rebuilt header block
	lines   []int  // the line each field starts on
	h       *mimeheaders.Header
}

func readHeader(fields []Field, leadingSpace bool, lim mimeheaders.Limits) (*header, error) {
	raw, lines, err := rebuild(fields, leadingSpace)
	if err != nil {
		return nil, err
	}
	hd := &header{fields: fields, leading: leadingSpace, raw: raw, lines: lines}
	if hd.h, err = mimeheaders.Read(bufio.NewReader(bytes.NewReader(raw)), lim); err != nil {
		return nil, err
	}
	if err := sameFields(fields, hd.h.Fields()); err != nil {
		return nil, err
	}
	return hd, nil
}

// Values returns the unfolded values of the fields named name, for the
// rules.
func (hd *header) Values(name string) []string { return hd.h.Values(name) }

func (hd *header) plan(rw *inject.Rewriter) ([]Edit, inject.Result, error) {
	fields, leadingSpace, lines := hd.fields, hd.leading, hd.lines
	out, res, err := rw.Bytes(hd.raw)
	if err != nil {
		return nil, res, err
	}
	if !res.Changed {
		return nil, res, nil
	}
	outH, err := mimeheaders.Read(bufio.NewReader(bytes.NewReader(out)), mimeheaders.Limits{MaxHeaderBytes: -1, MaxLineBytes: -1, MaxFields: -1})
	if err != nil {
		return nil, res, fmt.Errorf("reading the rewritten header: %w", err)
	}
	want := make([]Field, 0, len(outH.Fields()))
	for _, f := range outH.Fields() {
		want = append(want, milterField(f, leadingSpace))
	}

	// Which original field each change is about, by its line.
	byLine := make(map[int]int, len(fields))
	for i, l := range lines {
		byLine[l] = i
	}
	const (
		kept = iota
		replaced
		removed
	)
	fate := make([]int, len(fields))
	added := 0
	for _, c := range res.Changes {
		switch c.Op {
		case inject.Added:
			added++
		case inject.Replaced, inject.Removed:
			i, ok := byLine[c.Line]
			if !ok {
				return nil, res, fmt.Errorf("rewrite changed line %d, which starts no field", c.Line)
			}
			fate[i] = replaced
			if c.Op == inject.Removed {
				fate[i] = removed
			}
		}
	}
	if added > len(want) {
		return nil, res, fmt.Errorf("rewrite added %d fields but wrote %d", added, len(want))
	}

	// Changes first, then deletions from the last index down (a deletion
	// shifts the later indexes of its name), then insertions at the top:
	// every index refers to the header as the MTA showed it.
	var edits, deletes []Edit
	next := added // the output field the next surviving original field is
	for i, f := range fields {
		idx := nameIndex(fields, i)
		switch fate[i] {
		case removed:
			deletes = append(deletes, Edit{Op: Delete, Index: idx, Name: f.Name})
			continue
		case replaced:
			if next >= len(want) {
				return nil, res, errors.New("rewrite wrote fewer fields than it kept")
			}
			w := want[next]
			if w.Value == "" {
				return nil, res, fmt.Errorf("field %s: an empty value cannot be sent (it would delete the field)", w.Name)
			}
			edits = append(edits, Edit{Op: Change, Index: idx, Name: w.Name, Value: w.Value})
		}
		next++
	}
	for i := len(deletes) - 1; i >= 0; i-- {
		edits = append(edits, deletes[i])
	}
	for i := added - 1; i >= 0; i-- {
		edits = append(edits, Edit{Op: Insert, Index: 0, Name: want[i].Name, Value: want[i].Value})
	}
	if got := Apply(fields, edits); !equalFields(got, want) {
		return nil, res, fmt.Errorf("milter edits %v do not give the rewritten header", edits)
	}
	return edits, res, nil
}

// rebuild writes the fields as a header block with CRLF line endings and
// an empty line, and returns the line each field starts on.
func rebuild(fields []Field, leadingSpace bool) ([]byte, []int, error) {
	n := 2
	for _, f := range fields {
		n += len(f.Name) + len(f.Value) + 4 + strings.Count(f.Value, "\n")
	}
	b := make([]byte, 0, n)
	lines := make([]int, len(fields))
	line := 1
	for i, f := range fields {
		if err := checkField(f); err != nil {
			return nil, nil, &FieldError{Index: i, Name: cut(f.Name), Err: err}
		}
		lines[i] = line
		b = append(b, f.Name...)
		b = append(b, ':')
		if !leadingSpace {
			b = append(b, ' ')
		}
		for j := 0; j < len(f.Value); j++ {
			if f.Value[j] == '\n' {
				b = append(b, '\r')
				line++
			}
			b = append(b, f.Value[j])
		}
		b = append(b, '\r', '\n')
		line++
	}
	return append(b, '\r', '\n'), lines, nil
}

// checkField refuses what would make the rebuilt header read differently
// from the fields the MTA showed.
func checkField(f Field) error {
	if f.Name == "" {
		return fmt.Errorf("%w: empty name", ErrFieldMismatch)
	}
	for i := 0; i < len(f.Name); i++ {
		if c := f.Name[i]; c <= ' ' || c >= 127 || c == ':' {
			return fmt.Errorf("%w: byte %q in the name", ErrFieldMismatch, c)
		}
	}
	for i := 0; i < len(f.Value); i++ {
		switch f.Value[i] {
		case '\r':
			return fmt.Errorf("%w: CR in the value", ErrFieldMismatch)
		case '\n':
			if i+1 == len(f.Value) || f.Value[i+1] != ' ' && f.Value[i+1] != '\t' {
				return fmt.Errorf("%w: a line break not followed by white space", ErrFieldMismatch)
			}
		}
	}
	return nil
}

// sameFields checks the library read the rebuilt header as the same
// fields, in the same number and with the same names.
func sameFields(fields []Field, got []mimeheaders.Field) error {
	for i, f := range fields {
		if i >= len(got) {
			return &FieldError{Index: i, Name: cut(f.Name), Err: fmt.Errorf("%w: the header ends before it", ErrFieldMismatch)}
		}
		if got[i].Name() != f.Name {
			return &FieldError{Index: i, Name: cut(f.Name), Err: fmt.Errorf("%w: read as %q", ErrFieldMismatch, cut(got[i].Name()))}
		}
	}
	if len(got) != len(fields) {
		return fmt.Errorf("%w: %d fields read from %d", ErrFieldMismatch, len(got), len(fields))
	}
	return nil
}

// milterField returns f as the MTA would show it.
func milterField(f mimeheaders.Field, leadingSpace bool) Field {
	raw := f.Raw()
	name := f.Name()
	v := raw[bytes.IndexByte(raw, ':')+1:]
	v = bytes.TrimSuffix(bytes.TrimSuffix(v, []byte("\n")), []byte("\r"))
	value := strings.ReplaceAll(string(v), "\r\n", "\n")
	if !leadingSpace {
		value = strings.TrimPrefix(value, " ")
	}
	return Field{Name: name, Value: value}
}

// nameIndex returns the 1-based index of fields[i] among the fields with
// its name, ignoring ASCII case.
func nameIndex(fields []Field, i int) int {
	n := 1
	for j := range i {
		if strings.EqualFold(fields[j].Name, fields[i].Name) {
			n++
		}
	}
	return n
}

// Apply returns fields with edits applied in order, as Postfix and
// Sendmail apply a milter's modifications: Insert at Index among all
// fields (past the end appends), Change and Delete on the Index-th field
// whose name equals Name ignoring ASCII case (none: Change appends the
// field, Delete does nothing).
func Apply(fields []Field, edits []Edit) []Field {
	fs := append([]Field(nil), fields...)
	for _, e := range edits {
		switch e.Op {
		case Insert:
			at := min(e.Index, len(fs))
			fs = append(fs[:at], append([]Field{{e.Name, e.Value}}, fs[at:]...)...)
		case Change, Delete:
			at, n := -1, 0
			for i, f := range fs {
				if strings.EqualFold(f.Name, e.Name) {
					if n++; n == e.Index {
						at = i
						break
					}
				}
			}
			switch {
			case at < 0 && e.Op == Change:
				fs = append(fs, Field{e.Name, e.Value})
			case at < 0:
			case e.Op == Delete:
				fs = append(fs[:at], fs[at+1:]...)
			default:
				fs[at] = Field{e.Name, e.Value}
			}
		}
	}
	return fs
}

func equalFields(a, b []Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func cut(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}
