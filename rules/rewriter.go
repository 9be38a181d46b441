package rules

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/internal/headerblock"
)

// A DecideFunc chooses the decision for a message from its header, as
// Set.Evaluate or Set.Split do with the message's envelope. An error
// refuses the message.
type DecideFunc func(h Header) (*Decision, error)

// ErrRejected is wrapped by the error a Rewriter returns for a decision
// with Reject set.
var ErrRejected = errors.New("rejected")

// maxCached bounds the rewriters a Rewriter keeps, one per distinct
// decision (tag_from_header can make one per message).
const maxCached = 64

// A Rewriter rewrites one message at a time as the decision for its
// header says: it reads the header block once, calls a DecideFunc with
// it, and rewrites the message with the decision's Options. It keeps the
// inject.Rewriter of each distinct decision (up to 64), so messages that
// share a decision share its checked, encoded fields. A Rewriter is safe
// for concurrent use.
type Rewriter struct {
	base inject.Options // AllowNoHeader, AllowBareCR, Limits

	mu    sync.Mutex
	cache map[string]*inject.Rewriter
}

// NewRewriter returns a Rewriter whose rewrites take AllowNoHeader,
// AllowBareCR and Limits from base, which may be nil; the header is read
// within those Limits. The rest of each rewrite is its decision's.
func NewRewriter(base *inject.Options) *Rewriter {
	rw := new(Rewriter)
	if base != nil {
		rw.base = inject.Options{AllowNoHeader: base.AllowNoHeader, AllowBareCR: base.AllowBareCR, Limits: base.Limits}
	}
	return rw
}

// Rewrite copies the message in r to w, rewritten as decide chooses for
// its header. r is read once; its WriteTo, if any (a file's kernel copy),
// still serves the body.
func (rw *Rewriter) Rewrite(w io.Writer, r io.Reader, decide DecideFunc) (inject.Result, error) {
	return rw.with(r, decide, func(x *inject.Rewriter, msg io.Reader) (inject.Result, error) { return x.Rewrite(w, msg) })
}

// Check reports what Rewrite would change, reading only the header block.
func (rw *Rewriter) Check(r io.Reader, decide DecideFunc) (inject.Result, error) {
	return rw.with(r, decide, (*inject.Rewriter).Check)
}

// Bytes is Rewrite for a message held in memory.
func (rw *Rewriter) Bytes(msg []byte, decide DecideFunc) ([]byte, inject.Result, error) {
	sc := scratchPool.Get().(*scratch)
	defer sc.free()
	sc.br.Reset(bytes.NewReader(msg))
	if err := sc.h.Reset(sc.br, rw.base.Limits); err != nil {
		return nil, inject.Result{}, err
	}
	x, err := rw.decide(&sc.h, decide)
	if err != nil {
		return nil, inject.Result{}, err
	}
	return x.Bytes(msg)
}

// with reads the header block at the start of r, decides, and calls do
// with the decision's rewriter and a reader of r from its start.
func (rw *Rewriter) with(r io.Reader, decide DecideFunc, do func(*inject.Rewriter, io.Reader) (inject.Result, error)) (inject.Result, error) {
	sc := scratchPool.Get().(*scratch)
	defer sc.free()
	sc.br.Reset(io.TeeReader(r, &sc.head))
	if err := sc.h.Reset(sc.br, rw.base.Limits); err != nil {
		return inject.Result{}, err
	}
	x, err := rw.decide(&sc.h, decide)
	if err != nil {
		return inject.Result{}, err
	}
	return do(x, &replay{head: sc.head.Bytes(), r: r})
}

// decide returns the rewriter of the decision for h.
func (rw *Rewriter) decide(h Header, decide DecideFunc) (*inject.Rewriter, error) {
	d, err := decide(h)
	if err != nil {
		return nil, err
	}
	return rw.For(d)
}

// For returns the inject.Rewriter of the decision d. A decision with
// Reject set has none: its error wraps ErrRejected.
func (rw *Rewriter) For(d *Decision) (*inject.Rewriter, error) {
	if d.Reject != "" {
		return nil, fmt.Errorf("%s: %w: %s", d.Rule, ErrRejected, d.Reject)
	}
	key := d.key()
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if x := rw.cache[key]; x != nil {
		return x, nil
	}
	o := d.Options()
	o.AllowNoHeader, o.AllowBareCR, o.Limits = rw.base.AllowNoHeader, rw.base.AllowBareCR, rw.base.Limits
	x, err := inject.NewRewriter(o)
	if err != nil {
		return nil, err
	}
	if rw.cache == nil {
		rw.cache = make(map[string]*inject.Rewriter)
	}
	if len(rw.cache) < maxCached {
		rw.cache[key] = x
	}
	return x, nil
}

// A scratch holds what reading one message's header takes, reused from
// message to message.
type scratch struct {
	br   *bufio.Reader
	head bytes.Buffer // the bytes br read
	h    headerblock.Header
}

var scratchPool = sync.Pool{New: func() any { return &scratch{br: bufio.NewReader(nil)} }}

// free returns sc to the pool once the message is done with.
func (sc *scratch) free() {
	sc.br.Reset(nil)
	if sc.head.Cap() > 1<<20 {
		sc.head = bytes.Buffer{} // do not keep a huge header's buffer
	}
	sc.head.Reset()
	scratchPool.Put(sc)
}

// A replay reads head, then r. Its WriteTo leaves the rest of r to
// io.Copy, so a file's WriteTo (a kernel copy) still serves the body.
type replay struct {
	head []byte
	r    io.Reader
}

func (p *replay) Read(b []byte) (int, error) {
	if len(p.head) == 0 {
		return p.r.Read(b)
	}
	n := copy(b, p.head)
	p.head = p.head[n:]
	return n, nil
}

func (p *replay) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(p.head)
	p.head = p.head[n:]
	if err != nil {
		return int64(n), err
	}
	m, err := io.Copy(w, p.r)
	return int64(n) + m, err
}
