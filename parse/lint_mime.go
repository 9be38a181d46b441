package parse

import (
	"errors"
	"fmt"
	"mime"
	"strings"
)

// Bounds of the MIME walk.
const (
	maxDepth           = 32       // entities nested deeper are not walked
	maxPartHeaderBytes = 64 << 10 // a part header (with the preamble before it) over this is reported
)

// An entry says how the walk enters an entity's body: as a multipart, as
// an attached message, or not at all.
type entry struct {
	multipart bool
	boundary  string // of a multipart; "" when it has none
	digest    bool   // multipart/digest: parts default to message/rfc822
	err       error  // mime.ParseMediaType's, for a multipart
	message   bool   // message/rfc822 or message/global
}

// entering returns how the walk enters the body of an entity at depth
// whose Content-Type is ct and whose Content-Transfer-Encoding fields are
// cte. A body with a transfer encoding is not walked, nor one 32 entities
// deep.
func entering(ct string, cte []string, depth int) entry {
	if depth >= maxDepth {
		return entry{}
	}
	if len(cte) > 0 {
		switch strings.ToLower(strings.TrimSpace(cte[0])) {
		case "", "7bit", "8bit", "binary":
		default:
			return entry{}
		}
	}
	mt, params, err := mime.ParseMediaType(ct)
	switch {
	case strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "multipart/"):
		return entry{multipart: true, boundary: params["boundary"], digest: mt == "multipart/digest", err: err}
	case mt == "message/rfc822" || mt == "message/global":
		return entry{message: true}
	}
	return entry{}
}

// A walker walks the MIME structure of a message read-only.
type walker struct {
	add func(line int, code string, sev bool, format string, args ...any)
}

// entity walks the body in f of an entity whose Content-Type field ct is
// at line ctLine (0 when defaulted) and whose Content-Transfer-Encoding
// fields are cte.
func (w *walker) entity(f *feeder, ct string, cte []string, ctLine, depth int) {
	e := entering(ct, cte, depth)
	switch {
	case e.multipart && e.boundary == "":
		why := "it has no boundary parameter"
		if e.err != nil {
			why = fmt.Sprintf("its parameters do not parse (%v)", e.err)
		}
		w.add(ctLine, codeNoBoundary, reject, "Content-Type %s: %s, so the parts cannot be found", cut(ct), why)
	case e.multipart:
		w.multipart(f, e.boundary, e.digest, ctLine, depth)
	case e.message:
		w.message(f, depth)
	}
}

// multipart walks the parts of a multipart body.
func (w *walker) multipart(f *feeder, boundary string, digest bool, ctLine, depth int) {
	mr := newMultipartReader(f, boundary)
	for {
		f.arm(maxPartHeaderBytes)
		p, h, err := mr.next()
		f.disarm()
		if err != nil {
			w.multipartEnd(mr, err, ctLine)
			return
		}
		w.part(f, p, h, digest, depth)
	}
}

// part walks the body of a part whose header is h, then reads the rest of
// it, outside the budget the next part's header is read within.
func (w *walker) part(f *feeder, p *part, h partHeader, digest bool, depth int) {
	ct, ctLine := h.get("Content-Type")
	if ctLine == 0 && digest {
		ct = "message/rfc822"
	}
	if ct != "" {
		w.entity(newFeeder(p, f.line()), ct, h.values("Content-Transfer-Encoding"), ctLine, depth+1)
	}
	p.drain()
}

// multipartEnd reports why mr stopped with err, unless it read the
// close-delimiter.
func (w *walker) multipartEnd(mr *multipartReader, err error, ctLine int) {
	f, boundary := mr.f, string(mr.dash[2:])
	se, _ := errors.AsType[*structureError](err)
	switch {
	case err == errHeaderTooLarge:
		w.add(mr.delim+1, codePartHeader, reject, "part header (with what precedes it) is over %d bytes", maxPartHeaderBytes)
	case se == nil: // io.EOF: the close-delimiter
	case se.header:
		w.add(se.line, codePartHeader, reject, "part header does not parse: %s", se.text)
	case f.eof && mr.parts == 0 && mr.delim == 0:
		w.add(ctLine, codeNoFinalBoundary, reject, "multipart body (boundary %s) has no boundary line: it has no parts", cut(boundary))
	case f.eof:
		w.add(f.lastLine(), codeNoFinalBoundary, warn, "multipart body from line %d ends without its closing boundary line %s", mr.start, cut("--"+boundary+"--"))
	default:
		w.add(se.line, codeMultipartSyntax, reject, "multipart body (boundary %s) cannot be followed: %s", cut(boundary), se.text)
	}
}

// message walks an attached message: its header, then its body.
func (w *walker) message(f *feeder, depth int) {
	start := f.line()
	f.arm(maxPartHeaderBytes)
	h, err := readPartHeader(f)
	f.disarm()
	if err == errHeaderTooLarge {
		w.add(start, codePartHeader, reject, "header of the attached message is over %d bytes", maxPartHeaderBytes)
		return
	}
	if se, ok := errors.AsType[*structureError](err); ok {
		w.add(se.line, codePartHeader, reject, "header of the attached message does not parse: %s", se.text)
		return
	}
	if ct, ctLine := h.get("Content-Type"); ct != "" {
		w.entity(f, ct, h.values("Content-Transfer-Encoding"), ctLine, depth+1)
	}
}

// cut returns s cut to 80 bytes, quoted when it was cut or has control bytes.
func cut(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%q...", s[:80])
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}
