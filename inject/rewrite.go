package inject

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/internal/mbox"
	"github.com/sesmime/sesmime/internal/sesfield"
	"github.com/sesmime/sesmime/parse"
)

// Op is what a rewrite did to a field.
type Op string

const (
	Added    Op = "added"    // a new field on top of the header
	Replaced Op = "replaced" // a field rewritten in place
	Removed  Op = "removed"  // a field dropped
)

// A Change is one field a rewrite added, replaced or removed. A field
// replaced by the very same bytes is not a change.
type Change struct {
	Op   Op
	Name string // the field name as written (Added, Replaced) or as read (Removed)
	Line int    // line of the original field in the message; 0 for Added
	// Old and New are the field's value (unfolded, as Field.Value) before
	// and after: Old is "" for Added, New is "" for Removed.
	Old, New string
}

// Result tells what a rewrite did.
type Result struct {
	Written int64    // bytes written
	Changed bool     // whether the output differs from the input
	Changes []Change // fields added, replaced and removed, in header order
	// Growth is the output's length minus the input's: what the header
	// edits add (or, if negative, remove). With Check it tells the size
	// Rewrite would write, given the input's size.
	Growth int64
}

// A Rewriter applies one set of Options to many messages. It is safe for
// concurrent use and reuses its buffers between calls.
type Rewriter struct {
	opts      Options
	limits    headerblock.Limits // opts.Limits, with the managed fields exempt
	tagsValue string             // opts.Tags formatted
	hot       atomic.Pointer[state]
	pool      sync.Pool   // *state
	pooled    atomic.Bool // whether pool was ever given a state
}

type state struct {
	msg     bytes.Reader // Bytes reads from it
	br      *bufio.Reader
	h       headerblock.Header
	fields  []headerblock.Field
	out     []byte
	made    []byte   // the bytes of the fields edit makes
	wants   []want   // the fields edit makes
	changes []Change // the changes edit finds, before Added ones
}

const bufSize = 16 << 10

// NewRewriter checks every value in opts against SES's rules (package
// parse) and that opts does not contradict itself, and returns a Rewriter
// for them. The error is the first problem: a *parse.ValueError, or an
// error wrapping ErrInvalidOption. A nil opts changes nothing.
func NewRewriter(opts *Options) (*Rewriter, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	rw := &Rewriter{}
	if opts != nil {
		rw.opts = *opts
		rw.opts.Tags = slices.Clone(opts.Tags)
		rw.opts.Headers = slices.Clone(opts.Headers)
		rw.opts.RemoveHeaders = slices.Clone(opts.RemoveHeaders)
		rw.tagsValue = parse.FormatTags(rw.opts.Tags)
	}
	rw.limits = rw.opts.Limits
	own := rw.limits.Exempt
	rw.limits.Exempt = func(name []byte) bool {
		return rw.managed(name) || own != nil && own(name)
	}
	return rw, nil
}

// Bytes returns msg rewritten, and what changed.
func (rw *Rewriter) Bytes(msg []byte) ([]byte, Result, error) {
	st := rw.state()
	defer rw.put(st)
	st.msg.Reset(msg)
	st.br.Reset(&st.msg)
	res, err := rw.header(st, st.br)
	if err != nil {
		return nil, res, err
	}
	// The new header, then what neither st.br nor the header took of msg:
	// the bytes Rewrite would write, in one allocation of the exact size.
	rest := msg[len(msg)-st.msg.Len()-st.br.Buffered():]
	if sc := mbox.For(&st.h, st.h.NoHeader()); sc != nil {
		sc.Write(rest)
		if err := sc.Err(); err != nil {
			return nil, res, err
		}
	}
	out := make([]byte, 0, len(st.out)+len(rest))
	out = append(append(out, st.out...), rest...)
	res.Written = int64(len(out))
	return out, res, nil
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
	sc := mbox.For(&st.h, st.h.NoHeader())
	if err := sc.Err(); err != nil {
		return res, err
	}
	if s, ok := r.(io.Seeker); ok && sc != nil && br == st.br {
		// Look for a second message before writing anything, then come back.
		if cur, err := s.Seek(0, io.SeekCurrent); err == nil {
			back := cur - int64(br.Buffered())
			if _, err := io.Copy(sc, br); err != nil {
				return res, err
			}
			if err := sc.Err(); err != nil {
				return res, err
			}
			if _, err := s.Seek(back, io.SeekStart); err != nil {
				return res, err
			}
			br.Reset(r)
			sc = nil
		}
	}
	n, err := w.Write(st.out)
	res.Written = int64(n)
	if err != nil {
		return res, err
	}
	var m int64
	if sc != nil {
		m, err = io.Copy(io.MultiWriter(w, sc), br)
		if err == nil {
			err = sc.Err()
		}
	} else {
		m, err = io.Copy(w, br)
	}
	res.Written += m
	return res, err
}

// Check reads only the header block of the message in r and reports what
// Rewrite would change, writing nothing. Result.Written is 0. It is the
// cheap way to learn whether a stored message needs rewriting at all.
func (rw *Rewriter) Check(r io.Reader) (Result, error) {
	st, br := rw.get(r)
	defer rw.put(st)
	res, err := rw.header(st, br)
	if sc := mbox.For(&st.h, st.h.NoHeader()); err == nil && sc != nil {
		if _, err = io.Copy(sc, br); err == nil {
			err = sc.Err()
		}
	}
	return res, err
}

func (rw *Rewriter) get(r io.Reader) (*state, *bufio.Reader) {
	st := rw.state()
	br, ok := r.(*bufio.Reader)
	if !ok {
		st.br.Reset(r)
		br = st.br
	}
	return st, br
}

// state returns a state for one call: the one kept in rw.hot, one from
// the pool, or a new one.
func (rw *Rewriter) state() *state {
	if st := rw.hot.Swap(nil); st != nil {
		return st
	}
	if rw.pooled.Load() { // an empty pool's Get still sets the pool up
		if st, _ := rw.pool.Get().(*state); st != nil {
			return st
		}
	}
	// Room for a usual header from the start (see mimeheaders' firstBuf):
	// slices grown by append would allocate each size on the way.
	return &state{
		br:      bufio.NewReaderSize(nil, bufSize),
		fields:  make([]headerblock.Field, 0, 64),
		out:     make([]byte, 0, 8<<10),
		made:    make([]byte, 0, 1<<10),
		wants:   make([]want, 0, 8),
		changes: make([]Change, 0, 8),
	}
}

// put returns st for reuse: to rw.hot, which a garbage collection does not
// empty (so a Rewriter used by one goroutine at a time, however much
// garbage its caller makes, never allocates a new state), else to the pool.
func (rw *Rewriter) put(st *state) {
	st.msg.Reset(nil)
	st.br.Reset(nil)
	st.fields = st.fields[:0]
	clear(st.wants) // no field bytes kept alive from the pool
	st.wants = st.wants[:0]
	if cap(st.out) > 1<<20 {
		st.out = nil
	}
	if cap(st.made) > 64<<10 {
		st.made = nil
	}
	if cap(st.h.Original()) > 1<<20 {
		return // a huge header: let its buffer go
	}
	if !rw.hot.CompareAndSwap(nil, st) {
		rw.pooled.Store(true)
		rw.pool.Put(st)
	}
}

// header reads the header block from br, edits it and renders the new
// header (and the body bytes already read) into st.out.
func (rw *Rewriter) header(st *state, br *bufio.Reader) (Result, error) {
	var res Result
	h := &st.h
	if err := h.Reset(br, rw.limits); err != nil {
		return res, err
	}
	if err := rw.ambiguous(h); err != nil {
		return res, err
	}
	had := len(h.Fields())
	if err := rw.edit(st, &res); err != nil {
		return res, err
	}
	if st.out = h.AppendTo(st.out[:0]); len(st.out) == 0 && had > 0 {
		// Nothing but the fields removed: is there anything after them?
		// An empty output would be refused as an empty message.
		if _, err := br.Peek(1); err == io.EOF {
			return res, ErrNothingLeft
		} else if err != nil {
			return res, err
		}
	}
	res.Changed = !bytes.Equal(st.out, h.Original())
	res.Growth = int64(len(st.out) - len(h.Original()))
	return res, nil
}

// managed reports whether a field named name is one the options may write
// or remove, or an X-SES-* field: the fields whose reading must not be in
// doubt, and that count apart against the limits.
func (rw *Rewriter) managed(name []byte) bool {
	if len(name) >= len(sesfield.Prefix) && bytes.EqualFold(name[:len(sesfield.Prefix)], []byte(sesfield.Prefix)) {
		return true
	}
	for _, h := range rw.opts.Headers {
		if len(name) == len(h.Name) && bytes.EqualFold(name, []byte(h.Name)) {
			return true
		}
	}
	for _, n := range rw.opts.RemoveHeaders {
		if len(name) == len(n) && bytes.EqualFold(name, []byte(n)) {
			return true
		}
	}
	return false
}

// ambiguous returns the first reason, among those the options do not
// allow, that other parsers may read h differently, or nil.
func (rw *Rewriter) ambiguous(h *headerblock.Header) error {
	late := func(f headerblock.Field) bool { return rw.managed(f.Raw()[:len(f.Name())]) }
	for _, a := range h.Ambiguities(late) {
		switch {
		case rw.opts.AllowNoHeader && errors.Is(a, headerblock.ErrNoHeader),
			rw.opts.AllowBareCR && errors.Is(a, headerblock.ErrBareCR):
			continue
		}
		return a
	}
	return nil
}

// A want is a field edit writes: its name as given and, once made, the
// field. placed says it has taken the place of an existing field.
type want struct {
	name   string
	value  string // the value f was made with
	f      headerblock.Field
	placed bool
}

// edit computes the new field list of st.h. New fields are rendered into
// st.made and the changes gathered in st.changes, both reused between
// calls, so that res.Changes is the only allocation of a plain rewrite.
func (rw *Rewriter) edit(st *state, res *Result) error {
	o := &rw.opts
	h := &st.h
	fields := h.Fields()

	// The new fields, in top order: configuration set, tags, headers.
	ws := st.wants[:0]
	st.made = st.made[:0]
	cs, tags := -1, -1
	removeCS := o.RemoveConfigurationSet || o.RemoveAllSES
	removeTags := o.RemoveTags || o.RemoveAllSES
	if o.ConfigurationSet != "" {
		cs = len(ws)
		ws = append(ws, want{name: sesfield.ConfigurationSet})
		if err := st.newField(&ws[cs], h, o.ConfigurationSet); err != nil {
			return err
		}
	}
	if len(o.Tags) > 0 {
		list, same, err := rw.tagList(fields, removeTags)
		if err != nil {
			return err
		}
		if list != nil {
			value := rw.tagsValue // the options' own tags, formatted once
			if !same {
				value = parse.FormatTags(list)
			}
			tags = len(ws)
			ws = append(ws, want{name: sesfield.Tags})
			if err := st.newField(&ws[tags], h, value); err != nil {
				return err
			}
			removeTags = true
		}
	}
	hdr := len(ws)
	for _, hd := range o.Headers {
		ws = append(ws, want{name: hd.Name})
		if err := st.newField(&ws[len(ws)-1], h, hd.Value); err != nil {
			return err
		}
	}
	st.wants = ws

	out := st.fields[:0]
	changes := st.changes[:0]
	// A field is replaced in place only below lines every parser reads
	// as fields: RFC 5322's strict form, no whitespace before the colon
	// (Python's email parser, for one, ends the header at such a line).
	// Elsewhere it goes on top (after any Lead, which is where the top is).
	strictAbove := true
	for _, f := range fields {
		i := -1
		switch {
		case cs >= 0 && f.Is(sesfield.ConfigurationSet):
			i = cs
		case tags >= 0 && f.Is(sesfield.Tags):
			i = tags
		default:
			for k := range o.Headers {
				if f.Is(o.Headers[k].Name) {
					i = hdr + k
					break
				}
			}
		}
		if i >= 0 {
			// ws[i] goes where f was, the first time.
			w := &ws[i]
			switch {
			case w.placed, !strictAbove:
				changes = append(changes, Change{Op: Removed, Name: fieldName(f), Line: f.Line(), Old: f.Value()})
			default:
				w.placed = true
				out = append(out, w.f)
				if !bytes.Equal(w.f.Raw(), f.Raw()) {
					changes = append(changes, Change{Op: Replaced, Name: w.name, Line: f.Line(), Old: f.Value(), New: w.value})
				}
			}
			continue
		}
		if rw.removes(f, removeCS, removeTags) {
			changes = append(changes, Change{Op: Removed, Name: fieldName(f), Line: f.Line(), Old: f.Value()})
			continue
		}
		out = append(out, f)
		strictAbove = strictAbove && f.Raw()[len(f.Name())] == ':'
	}
	top := 0
	for _, w := range ws {
		if !w.placed {
			top++
		}
	}
	if top > 0 {
		n := len(out)
		out = slices.Grow(out, top)[:n+top]
		copy(out[top:], out[:n])
		k := 0
		for _, w := range ws {
			if !w.placed {
				out[k] = w.f
				k++
			}
		}
	}
	if n := top + len(changes); n > 0 {
		res.Changes = make([]Change, 0, n)
		for _, w := range ws {
			if !w.placed {
				res.Changes = append(res.Changes, Change{Op: Added, Name: w.name, New: w.value})
			}
		}
		res.Changes = append(res.Changes, changes...)
	}
	clear(changes) // drop the names for the collector
	st.changes = changes[:0]
	st.fields = out
	h.SetFields(out)
	return nil
}

// newField renders w's field with value into st.made.
func (st *state) newField(w *want, h *headerblock.Header, value string) error {
	made, f, err := h.AppendField(st.made, w.name, value)
	if err != nil {
		return err
	}
	st.made, w.f, w.value = made, f, value
	return nil
}

// removes reports whether f is a field the options remove.
func (rw *Rewriter) removes(f headerblock.Field, removeCS, removeTags bool) bool {
	o := &rw.opts
	if removeCS && f.Is(sesfield.ConfigurationSet) ||
		removeTags && f.Is(sesfield.Tags) ||
		o.RemoveAllSES && f.HasPrefix(sesfield.Prefix) {
		return true
	}
	for _, name := range o.RemoveHeaders {
		if f.Is(name) {
			return true
		}
	}
	return false
}

// fieldName returns f.Name(), without allocating for the SES fields'
// usual spelling.
func fieldName(f headerblock.Field) string {
	for _, name := range [...]string{sesfield.ConfigurationSet, sesfield.Tags} {
		if raw := f.Raw(); len(raw) > len(name) && string(raw[:len(name)]) == name && f.Is(name) {
			return name
		}
	}
	return f.Name()
}

// tagList returns the tags to write, or nil to leave the tags fields alone.
// removed says the existing tags fields are being removed anyway. same says
// the tags are the options' own.
func (rw *Rewriter) tagList(fields []headerblock.Field, removed bool) (tags []parse.Tag, same bool, err error) {
	o := &rw.opts
	if o.TagsMode == Replace || removed {
		return o.Tags, true, nil
	}
	var (
		existing []parse.Tag
		found    bool
	)
	for _, f := range fields {
		if !f.Is(sesfield.Tags) {
			continue
		}
		found = true
		if o.TagsMode == Keep {
			return nil, false, nil
		}
		ts, err := parse.ParseTags(f.Value())
		if ve, ok := errors.AsType[*parse.ValueError](err); ok {
			// Where it is in the message.
			at := *ve
			at.Line, at.Column = f.ValuePos(ve.Column - 1)
			return nil, false, &at
		}
		existing = append(existing, ts...)
	}
	if !found {
		return o.Tags, true, nil
	}
	return parse.MergeTags(existing, o.Tags), false, nil
}
