package parse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/internal/sesfield"
)

// The severities of a Finding: Finding.Error.
const (
	warn   = false // SES accepts the message but may ignore the value
	reject = true  // SES rejects the message or the value, or it is ambiguous
)

// Finding codes reported by Inspect.
const (
	codeConfigSetInvalid   = "config-set-invalid"   // empty or not ^[A-Za-z0-9_-]{1,64}$
	codeConfigSetDuplicate = "config-set-duplicate" // more than one X-SES-CONFIGURATION-SET field
	codeTagsDuplicate      = "tags-duplicate-field" // more than one X-SES-MESSAGE-TAGS field
	codeTagMalformed       = "tag-malformed"        // an item that is not name=value
	codeTagInvalid         = "tag-invalid"          // a name or value SES refuses
	codeTagDuplicateName   = "tag-duplicate-name"   // the same tag name twice
	codeHeaderInvalid      = "header-invalid"       // a custom tag header value CloudWatch drops
	codeHeaderDuplicate    = "header-duplicate"     // a custom tag header present more than once
	codeNonASCII           = "ses-non-ascii"        // 8-bit or control bytes in an X-SES-* field
	codeHeaderEndsEarly    = "header-ends-early"    // a non-field line ends the header block before an empty line
	codeNoHeader           = "no-header"            // the message has no header block at all (or starts with a UTF-8 BOM)
	codeLateField          = "header-late-field"    // an X-SES-* or Options.Headers field after the block ended early
	codeBareCR             = "header-bare-cr"       // a CR not followed by LF before the first empty line
)

// Finding codes reported only by Lint, which reads the whole message.
const (
	codeDuplicateField  = "duplicate-field"        // a field SES accepts at most once appears again
	codeMbox            = "mbox-several-messages"  // an mbox file holding more than one message
	codeTooLarge        = "size-too-large"         // the message after base64 is over the API's size limit
	codeLineTooLong     = "line-too-long"          // a line over 998 bytes without its line ending
	codeNUL             = "header-nul"             // a NUL byte in the header block
	code8Bit            = "header-8bit"            // 8-bit bytes in a field other than an X-SES-* field
	codeDKIMCoversSES   = "dkim-signs-ses"         // a DKIM-Signature whose h= names an X-SES-* field
	codeInbound         = "inbound-leftover"       // a field SES adds to received mail, or a DKIM signature by amazonses.com
	codeSESv2Headers    = "ses-fields-v2"          // --api v2: X-SES-* event fields a SESv2 raw send may ignore
	codeNoBoundary      = "mime-no-boundary"       // a multipart Content-Type without a usable boundary
	codeNoFinalBoundary = "mime-no-final-boundary" // a multipart body that ends before its closing boundary
	codePartHeader      = "mime-part-header"       // a part header that does not parse
	codeMultipartSyntax = "mime-multipart-syntax"  // a multipart body whose boundary lines cannot be followed
)

// A Finding is something wrong with what SES will see, at a line of the
// message.
type Finding struct {
	Line   int    // 1-based line of the message where the field starts
	Column int    // 1-based byte of that line at fault, 0 when the field or line as a whole is
	Code   string // a stable lower-case word (see the package documentation)
	// Error says SES rejects the message or the value, or that it is
	// ambiguous; a finding that is not an error is a warning: SES accepts
	// the message but may ignore the value (for example, drop CloudWatch
	// metrics without an error).
	Error   bool
	Message string
}

// String returns the finding as "line 3, column 12: error: tag-invalid: message".
func (f Finding) String() string {
	if f.Column > 0 {
		return fmt.Sprintf("line %d, column %d: %s: %s: %s", f.Line, f.Column, f.severity(), f.Code, f.Message)
	}
	return fmt.Sprintf("line %d: %s: %s: %s", f.Line, f.severity(), f.Code, f.Message)
}

// severity returns "error" or "warning".
func (f Finding) severity() string {
	if f.Error {
		return "error"
	}
	return "warning"
}

// Options says what Inspect and Lint look for. The zero value (or nil) reads
// the SES fields with the default limits.
type Options struct {
	Headers []string           // names of custom tag headers to report and check
	Limits  headerblock.Limits // bounds on the header block
	API     API                // the interface the message is sent through (Lint only); zero value SMTP
}

// Info is what SES will see in a message header.
type Info struct {
	ConfigurationSet string      // value of the first X-SES-CONFIGURATION-SET field, "" if none
	Tags             []Tag       // tags of every X-SES-MESSAGE-TAGS field, in order
	Headers          []TagHeader // fields named in Options.Headers, in message order
	Findings         []Finding   // problems, in line order
}

// add appends a finding.
func (in *Info) add(line int, code string, sev bool, format string, args ...any) {
	in.Findings = append(in.Findings, Finding{Line: line, Code: code, Error: sev, Message: fmt.Sprintf(format, args...)})
}

// addValue appends a finding for err, a *ValueError about f.Value() (its
// Column a byte of it), placed at the byte at fault.
func (in *Info) addValue(f headerblock.Field, code string, sev bool, err error, suffix string) {
	line, col := f.Line(), 0
	if ve, ok := errors.AsType[*ValueError](err); ok && ve.Column > 0 {
		line, col = f.ValuePos(ve.Column - 1)
	}
	in.Findings = append(in.Findings, Finding{Line: line, Column: col, Code: code, Error: sev, Message: err.Error() + suffix})
}

// Inspect reads only the header block of the message in r, leaving the
// body unread, and reports what SES will see: the values of the SES fields
// and of the custom tag headers named in opts, and findings about them. If
// r is a *bufio.Reader it is read directly and left at the first body byte
// it did not need. The error is a *mimeheaders.SyntaxError for a header
// block mimeheaders.Read refuses (empty, or over a limit), or a read error
// of r.
func Inspect(r io.Reader, opts *Options) (*Info, error) {
	if opts == nil {
		opts = &Options{}
	}
	// The Info holds copies (strings) of what it needs, so the header's
	// storage goes back to a pool for the next call.
	h := headers.Get().(*headerblock.Header)
	defer func() {
		if cap(h.Original()) <= 1<<20 {
			headers.Put(h)
		}
	}()
	if _, err := readHeader(r, opts, h); err != nil {
		return nil, err
	}
	return inspect(h, opts), nil
}

// headers are the headers Inspect reads into.
var headers = sync.Pool{New: func() any { return new(headerblock.Header) }}

// readHeader reads the header block of the message in r (read directly if
// it is a *bufio.Reader) into h and returns the reader, positioned after it.
func readHeader(r io.Reader, opts *Options, h *headerblock.Header) (*bufio.Reader, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	lim := opts.Limits
	own := lim.Exempt
	lim.Exempt = func(name []byte) bool { return managed(name, opts) || own != nil && own(name) }
	return br, h.Reset(br, lim)
}

// managed reports whether a field named name is an X-SES-* field or one of
// opts.Headers: the fields sesmime writes, which count apart against the
// limits (as inject counts them) and must not follow an early end of the
// header block.
func managed(name []byte, opts *Options) bool {
	if len(name) >= len(sesfield.Prefix) && bytes.EqualFold(name[:len(sesfield.Prefix)], []byte(sesfield.Prefix)) {
		return true
	}
	for _, h := range opts.Headers {
		if bytes.EqualFold(name, []byte(h)) {
			return true
		}
	}
	return false
}

// inspect reports what SES will see in h.
func inspect(h *headerblock.Header, opts *Options) *Info {
	if opts == nil {
		opts = &Options{}
	}
	in := &Info{}
	add := in.add
	var (
		sets, tagFields int
		seenTag         = map[string]int{}
		seenHeader      = map[string]int{}
	)
	for _, f := range h.Fields() {
		line := f.Line()
		if f.HasPrefix(sesfield.Prefix) {
			if i := nonASCII(f.Raw()[len(f.Name()):]); i >= 0 {
				add(line, codeNonASCII, warn, "%s has byte 0x%02x: CloudWatch drops metrics for non-ASCII values", f.Name(), f.Raw()[len(f.Name())+i])
			}
		}
		switch {
		case f.Is(sesfield.ConfigurationSet):
			sets++
			v := f.Value()
			if sets == 1 {
				in.ConfigurationSet = v
			} else {
				add(line, codeConfigSetDuplicate, reject, "%s appears again (first value %q): how SES resolves duplicates is undocumented", f.Name(), in.ConfigurationSet)
			}
			if err := ValidateConfigurationSet(v); err != nil {
				in.addValue(f, codeConfigSetInvalid, reject, err, "")
			}
		case f.Is(sesfield.Tags):
			tagFields++
			if tagFields > 1 {
				add(line, codeTagsDuplicate, reject, "%s appears again: how SES resolves duplicates is undocumented", f.Name())
			}
			tags, pos, err := parseTags(f.Value())
			if err != nil {
				in.addValue(f, codeTagMalformed, reject, err, "")
			}
			for i, t := range tags {
				if err := validateTagAt(t, pos[i]); err != nil {
					in.addValue(f, codeTagInvalid, reject, err, "")
				}
				if seenTag[t.Name] > 0 {
					add(line, codeTagDuplicateName, reject, "tag %q appears again", t.Name)
				}
				seenTag[t.Name]++
			}
			in.Tags = append(in.Tags, tags...)
		default:
			for _, name := range opts.Headers {
				if !f.Is(name) {
					continue
				}
				hd := TagHeader{Name: f.Name(), Value: f.Value()}
				in.Headers = append(in.Headers, hd)
				if seenHeader[name] > 0 {
					add(line, codeHeaderDuplicate, reject, "%s appears again: only one value can be a dimension", f.Name())
				}
				seenHeader[name]++
				if err := ValidateHeader(hd); isWhat(err, whatHeaderValue) {
					in.addValue(f, codeHeaderInvalid, warn, err, " (CloudWatch drops metrics for it)")
				}
				break
			}
		}
	}
	if h.End() == headerblock.EndBody && !h.NoHeader() {
		line := bytes.Count(h.Original()[:h.Len()], []byte("\n")) + 1
		add(line, codeHeaderEndsEarly, warn, "line %d is neither a field nor a continuation: the header ends there for sesmime, but a parser that reads on to the first empty line may see fields after it", line)
	}
	// What inject refuses by default, in its words.
	late := func(f headerblock.Field) bool { return managed(f.Raw()[:len(f.Name())], opts) }
	for _, a := range h.Ambiguities(late) {
		code := codeBareCR
		switch {
		case errors.Is(a, headerblock.ErrNoHeader):
			code = codeNoHeader
		case errors.Is(a, headerblock.ErrLateField):
			code = codeLateField
		}
		add(a.Line, code, reject, "%s", a.Reason())
	}
	slices.SortStableFunc(in.Findings, func(a, b Finding) int { return a.Line - b.Line })
	return in
}

func nonASCII(b []byte) int {
	for i, c := range b {
		if c >= 0x80 || (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f {
			return i
		}
	}
	return -1
}

func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		a, b := s[i], prefix[i]
		if 'a' <= a && a <= 'z' {
			a -= 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}
