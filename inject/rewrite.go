package inject

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/sesmime/sesmime/mimeheaders"
	"github.com/sesmime/sesmime/parse"
)

// Op is what a rewrite did to a field.
type Op int

const (
	Added    Op = iota // a new field on top of the header
	Replaced           // a field rewritten in place
	Removed            // a field dropped
)

func (o Op) String() string {
	switch o {
	case Added:
		return "added"
	case Replaced:
		return "replaced"
	case Removed:
		return "removed"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// A Change is one field a rewrite added, replaced or removed. A field
// replaced by the very same bytes is not a change.
type Change struct {
	Op   Op
	Name string // the field name as written (Added, Replaced) or as read (Removed)
	Line int    // line of the original field in the message; 0 for Added
}

func (c Change) String() string {
	if c.Line == 0 {
		return fmt.Sprintf("%s %s", c.Op, c.Name)
	}
	return fmt.Sprintf("%s %s (line %d)", c.Op, c.Name, c.Line)
}

// Result tells what a rewrite did.
type Result struct {
	Written int64    // bytes written
	Changed bool     // whether the output differs from the input
	Changes []Change // fields added, replaced and removed, in header order
}

// A Rewriter applies one set of Options to many messages. It is safe for
// concurrent use and reuses its buffers between calls.
type Rewriter struct {
	opts Options
	pool sync.Pool // *state
}

type state struct {
	br     *bufio.Reader
	h      mimeheaders.Header
	fields []mimeheaders.Field
	out    []byte
}

const bufSize = 16 << 10

// NewRewriter validates opts (see Options.Validate) and returns a Rewriter
// for them. A nil opts changes nothing.
func NewRewriter(opts *Options) (*Rewriter, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	rw := &Rewriter{}
	if opts != nil {
		rw.opts = *opts
		rw.opts.Tags = slices.Clone(opts.Tags)
		rw.opts.Headers = slices.Clone(opts.Headers)
		rw.opts.RemoveHeaders = slices.Clone(opts.RemoveHeaders)
	}
	return rw, nil
}

// Rewrite copies the message in r to w, changing its header as the options
// say. Everything after the header block is copied unchanged with io.Copy.
// Nothing is written when the header cannot be read or changed.
func Rewrite(w io.Writer, r io.Reader, opts *Options) (written int64, err error) {
	rw, err := NewRewriter(opts)
	if err != nil {
		return 0, err
	}
	res, err := rw.Rewrite(w, r)
	return res.Written, err
}

// Bytes returns msg rewritten as the options say.
func Bytes(msg []byte, opts *Options) ([]byte, error) {
	rw, err := NewRewriter(opts)
	if err != nil {
		return nil, err
	}
	out, _, err := rw.Bytes(msg)
	return out, err
}

// Bytes returns msg rewritten, and what changed.
func (rw *Rewriter) Bytes(msg []byte) ([]byte, Result, error) {
	var out bytes.Buffer
	out.Grow(len(msg) + 512)
	res, err := rw.Rewrite(&out, bytes.NewReader(msg))
	if err != nil {
		return nil, res, err
	}
	return out.Bytes(), res, nil
}

// Rewrite copies the message in r to w, changing its header, and reports
// what changed. The header is written in one Write; the body follows with
// io.Copy (so an *os.File to *os.File copy can use copy_file_range). If r is
// a *bufio.Reader it is read directly. Nothing is written when the header
// cannot be read or changed.
func (rw *Rewriter) Rewrite(w io.Writer, r io.Reader) (Result, error) {
	st, br := rw.get(r)
	defer rw.put(st)
	res, err := rw.header(st, br)
	if err != nil {
		return res, err
	}
	n, err := w.Write(st.out)
	res.Written = int64(n)
	if err != nil {
		return res, err
	}
	m, err := io.Copy(w, br)
	res.Written += m
	return res, err
}

// Check reads only the header block of the message in r and reports what
// Rewrite would change, writing nothing. Result.Written is 0. It is the
// cheap way to learn whether a stored message needs rewriting at all.
func (rw *Rewriter) Check(r io.Reader) (Result, error) {
	st, br := rw.get(r)
	defer rw.put(st)
	return rw.header(st, br)
}

func (rw *Rewriter) get(r io.Reader) (*state, *bufio.Reader) {
	st, _ := rw.pool.Get().(*state)
	if st == nil {
		st = &state{br: bufio.NewReaderSize(nil, bufSize)}
	}
	br, ok := r.(*bufio.Reader)
	if !ok {
		st.br.Reset(r)
		br = st.br
	}
	return st, br
}

func (rw *Rewriter) put(st *state) {
	st.br.Reset(nil)
	st.fields = st.fields[:0]
	if cap(st.out) > 1<<20 {
		st.out = nil
	}
	rw.pool.Put(st)
}

// header reads the header block from br, edits it and renders the new
// header (and the body bytes already read) into st.out.
func (rw *Rewriter) header(st *state, br *bufio.Reader) (Result, error) {
	var res Result
	h := &st.h
	if err := h.Reset(br, rw.opts.Limits); err != nil {
		return res, err
	}
	if err := rw.edit(st, &res); err != nil {
		return res, err
	}
	st.out = h.AppendTo(st.out[:0])
	res.Changed = !bytes.Equal(st.out, h.Original())
	return res, nil
}

// edit computes the new field list of st.h.
func (rw *Rewriter) edit(st *state, res *Result) error {
	o := &rw.opts
	h := &st.h
	fields := h.Fields()

	// The new fields, in top order: configuration set, tags, headers.
	type want struct {
		f      mimeheaders.Field
		placed bool
	}
	var wants [8]want
	ws := wants[:0]
	newField := func(name, value string) error {
		f, err := h.NewField(name, value)
		if err != nil {
			return fmt.Errorf("inject: %w", err)
		}
		ws = append(ws, want{f: f})
		return nil
	}
	cs, tags := -1, -1
	removeCS := o.RemoveConfigurationSet || o.RemoveAllSES
	removeTags := o.RemoveTags || o.RemoveAllSES
	if o.ConfigurationSet != "" {
		cs = len(ws)
		if err := newField(parse.ConfigurationSetField, o.ConfigurationSet); err != nil {
			return err
		}
	}
	if len(o.Tags) > 0 {
		list, err := rw.tagList(fields, removeTags)
		if err != nil {
			return err
		}
		if list != nil {
			tags = len(ws)
			if err := newField(parse.TagsField, parse.FormatTags(list)); err != nil {
				return err
			}
			removeTags = true
		}
	}
	hdr := len(ws)
	for _, hd := range o.Headers {
		if err := newField(hd.Name, hd.Value); err != nil {
			return err
		}
	}

	out := st.fields[:0]
	// place puts ws[i] where f was, the first time.
	place := func(i int, f mimeheaders.Field) {
		if ws[i].placed {
			res.Changes = append(res.Changes, Change{Op: Removed, Name: f.Name(), Line: f.Line()})
			return
		}
		ws[i].placed = true
		out = append(out, ws[i].f)
		if !bytes.Equal(ws[i].f.Raw(), f.Raw()) {
			res.Changes = append(res.Changes, Change{Op: Replaced, Name: ws[i].f.Name(), Line: f.Line()})
		}
	}
	for _, f := range fields {
		switch {
		case f.Is(parse.ConfigurationSetField) && cs >= 0:
			place(cs, f)
			continue
		case f.Is(parse.TagsField) && tags >= 0:
			place(tags, f)
			continue
		}
		if i := slices.IndexFunc(o.Headers, func(hd parse.Header) bool { return f.Is(hd.Name) }); i >= 0 {
			place(hdr+i, f)
			continue
		}
		remove := f.Is(parse.ConfigurationSetField) && removeCS ||
			f.Is(parse.TagsField) && removeTags ||
			o.RemoveAllSES && hasPrefixFold(f.Name(), parse.SESPrefix) ||
			slices.ContainsFunc(o.RemoveHeaders, f.Is)
		if remove {
			res.Changes = append(res.Changes, Change{Op: Removed, Name: f.Name(), Line: f.Line()})
			continue
		}
		out = append(out, f)
	}
	var top []mimeheaders.Field
	for _, w := range ws {
		if !w.placed {
			top = append(top, w.f)
		}
	}
	if len(top) > 0 {
		out = slices.Insert(out, 0, top...)
		added := make([]Change, len(top))
		for i, f := range top {
			added[i] = Change{Op: Added, Name: f.Name()}
		}
		res.Changes = slices.Insert(res.Changes, 0, added...)
	}
	st.fields = out
	h.SetFields(out)
	return nil
}

// tagList returns the tags to write, or nil to leave the tags fields alone.
// removed says the existing tags fields are being removed anyway.
func (rw *Rewriter) tagList(fields []mimeheaders.Field, removed bool) ([]parse.Tag, error) {
	o := &rw.opts
	if o.TagsMode == Replace || removed {
		return o.Tags, nil
	}
	var (
		existing []parse.Tag
		found    bool
	)
	for _, f := range fields {
		if !f.Is(parse.TagsField) {
			continue
		}
		found = true
		if o.TagsMode == Keep {
			return nil, nil
		}
		ts, err := parse.ParseTags(f.Value())
		if err == nil {
			for _, t := range ts {
				if err = parse.ValidateTag(t); err != nil {
					break
				}
			}
		}
		if err != nil {
			return nil, &ExistingTagsError{Line: f.Line(), Err: err}
		}
		for _, t := range ts {
			if !slices.ContainsFunc(existing, func(e parse.Tag) bool { return e.Name == t.Name }) {
				existing = append(existing, t)
			}
		}
	}
	if !found {
		return o.Tags, nil
	}
	for _, t := range o.Tags {
		if i := slices.IndexFunc(existing, func(e parse.Tag) bool { return e.Name == t.Name }); i >= 0 {
			existing[i].Value = t.Value
		} else {
			existing = append(existing, t)
		}
	}
	return existing, nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
