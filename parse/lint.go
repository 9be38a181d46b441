package parse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/internal/mbox"
	"github.com/sesmime/sesmime/internal/sesfield"
)

// An API is the SES interface a message is sent through. It sets the size
// limit Lint checks. The zero value is SMTP.
type API int

const (
	SMTP API = iota // the SMTP interface: 40 MB after base64
	V1              // SES v1 SendRawEmail: 10 MB after base64
	V2              // SESv2 SendEmail with Content.Raw: 40 MB after base64
)

// Size limits SES applies to a message after base64 encoding. SES's own
// error for the v1 API names 10485760 bytes.
const (
	maxSizeV1 = 10 << 20
	maxSize   = 40 << 20
)

// String returns "smtp", "v1" or "v2".
func (a API) String() string {
	switch a {
	case V1:
		return "v1"
	case V2:
		return "v2"
	}
	return "smtp"
}

// MaxSize returns the largest message, counted after base64 (see
// Base64Len), that SES accepts through a.
func (a API) MaxSize() int64 {
	if a == V1 {
		return maxSizeV1
	}
	return maxSize
}

// Base64Len returns the length of n bytes encoded in base64: 4*ceil(n/3).
func Base64Len(n int64) int64 { return (n + 2) / 3 * 4 }

// inboundFields are added by SES to mail it receives.
var inboundFields = []string{"X-SES-RECEIPT", "X-SES-Spam-Verdict", "X-SES-Virus-Verdict", "X-SES-DKIM-SIGNATURE", "X-SES-Outgoing"}

// Lint reads the whole message in r and reports what SES would reject or
// silently ignore: Inspect's findings on the header, and the Code*
// findings listed as Lint's, on the header, the size, the lines and the
// MIME structure. The findings of the returned Info are sorted by line.
//
// The header block is held in memory, bounded by opts.Limits; the body is
// streamed in constant memory and never decoded or re-encoded. MIME parts
// are walked read-only, as the package documentation describes, to a depth
// of 32 entities; a part header over 64 KiB is reported, not read.
//
// The error is that of Inspect; malformed content is a finding.
func Lint(r io.Reader, opts *Options) (*Info, error) {
	if opts == nil {
		opts = &Options{}
	}
	h := new(headerblock.Header)
	br, err := readHeader(r, opts, h)
	if err != nil {
		return nil, err
	}
	in := inspect(h, opts)
	add := in.add
	lintHeader(h, opts, add)

	block := h.Original()[:h.Len()]
	var rest io.Reader = br
	sc := mbox.For(h, false)
	if sc != nil {
		rest = io.TeeReader(br, sc)
	}
	body := newFeeder(io.MultiReader(bytes.NewReader(h.Original()[h.Len():]), rest), bytes.Count(block, []byte("\n"))+1)
	body.long = &longLines{}
	if h.End() == headerblock.EndBlank {
		body.skipLine() // the empty line that ends the header
	}
	ct, ctLine := "", 0
	for _, f := range h.Fields() {
		if f.Is("Content-Type") {
			ct, ctLine = f.Value(), f.Line()
			break
		}
	}
	w := &walker{add: add}
	if ct != "" {
		w.entity(body, ct, h.Values("Content-Transfer-Encoding"), ctLine, 0)
	}
	body.drain()
	if body.err != nil {
		return nil, body.err
	}
	if ll := body.long; ll.count > 0 {
		more := ""
		if ll.count > 1 {
			more = fmt.Sprintf(" (%d body lines are over 998 bytes, the longest %d)", ll.count, ll.longest)
		}
		add(ll.first, codeLineTooLong, reject, "body line is %d bytes, over the 998 of RFC 5322 (SMTP allows 1000 with CRLF)%s", ll.firstLen, more)
	}
	if err := sc.Err(); err != nil {
		if a, ok := errors.AsType[*headerblock.AmbiguityError](err); ok {
			add(a.Line, codeMbox, reject, "%s", a.Reason())
		}
	}
	size := int64(len(block)) + body.n
	if b := Base64Len(size); b > opts.API.MaxSize() {
		add(1, codeTooLarge, reject, "message is %d bytes, %d after base64: over the %d bytes SES accepts through the %s API", size, b, opts.API.MaxSize(), opts.API)
	}
	slices.SortStableFunc(in.Findings, func(a, b Finding) int { return a.Line - b.Line })
	return in, nil
}

// lintHeader adds the findings about the header block h that Inspect does
// not make.
func lintHeader(h *headerblock.Header, opts *Options, add func(int, string, bool, string, ...any)) {
	// Lines of the block: length, bare CR, NUL.
	block := h.Original()[:h.Len()]
	line := 1
	for start := 0; start < len(block); line++ {
		end := bytes.IndexByte(block[start:], '\n')
		lf := end >= 0
		if lf {
			end += start
		} else {
			end = len(block)
		}
		text := block[start:end]
		if len(text) > 0 && text[len(text)-1] == '\r' && lf {
			text = text[:len(text)-1] // CRLF
		}
		if len(text) > maxLineLength {
			add(line, codeLineTooLong, reject, "header line is %d bytes, over the 998 of RFC 5322 (SMTP allows 1000 with CRLF)", len(text))
		}
		if i := bytes.IndexByte(text, 0); i >= 0 {
			add(line, codeNUL, reject, "NUL byte at byte %d of the line", i+1)
		}
		start = end + 1
	}

	first := map[string]int{}
	for _, f := range h.Fields() {
		name, lname := f.Name(), strings.ToLower(f.Name())
		ses := f.HasPrefix(sesfield.Prefix)
		if !ses {
			for i, c := range f.Raw() {
				if c >= 0x80 {
					add(f.Line(), code8Bit, warn, "%s has 8-bit byte 0x%02x at byte %d: send it RFC 2047-encoded, or only through a path that supports SMTPUTF8", name, c, i+1)
					break
				}
			}
		}
		if sesfield.AtMostOnce(lname) {
			if l, ok := first[lname]; ok {
				add(f.Line(), codeDuplicateField, reject, "%s appears again (first at line %d): SES rejects the message with \"Duplicate header '%s'.\"", name, l, name)
			} else {
				first[lname] = f.Line()
			}
		}
		for _, n := range inboundFields {
			if f.Is(n) {
				add(f.Line(), codeInbound, warn, "%s is added by SES to received mail: this looks like a stored inbound message; remove it before re-sending", name)
			}
		}
		if opts.API == V2 && (f.Is(sesfield.ConfigurationSet) || f.Is(sesfield.Tags)) {
			what := "ConfigurationSetName"
			if f.Is(sesfield.Tags) {
				what = "EmailTags"
			}
			add(f.Line(), codeSESv2Headers, warn, "whether SESv2 SendEmail honours %s in a raw message is undocumented: pass %s as an API parameter", name, what)
		}
		if f.Is("DKIM-Signature") {
			lintDKIM(f, add)
		}
	}
}

// lintDKIM checks the tags h= and d= of a DKIM-Signature field.
func lintDKIM(f headerblock.Field, add func(int, string, bool, string, ...any)) {
	for tag := range strings.SplitSeq(f.Value(), ";") {
		k, v, ok := strings.Cut(tag, "=")
		if !ok {
			continue
		}
		v = strings.Join(strings.Fields(v), "")
		switch strings.TrimSpace(k) {
		case "h":
			var ses []string
			for n := range strings.SplitSeq(v, ":") {
				if hasPrefixFold(n, sesfield.Prefix) {
					ses = append(ses, n)
				}
			}
			if len(ses) > 0 {
				add(f.Line(), codeDKIMCoversSES, reject, "DKIM-Signature h= signs %s: SES removes X-SES-* fields before delivery, so the signature breaks; sign after setting them, leaving them out of h=", strings.Join(ses, ", "))
			}
		case "d":
			if strings.EqualFold(v, "amazonses.com") {
				add(f.Line(), codeInbound, warn, "DKIM-Signature by d=amazonses.com: this message was already sent through SES; SES signs it again when it is re-sent")
			}
		}
	}
}
