package sesmime

import (
	"io"

	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/parse"
)

// Options says what Rewrite, RewriteBytes and NewWriter change. The zero
// value (or nil) changes nothing. See inject.Options.
type Options = inject.Options

// InspectOptions says what Inspect and Lint look for: the names of custom
// tag headers, the limits on the header block and (Lint only) the SES API
// the message goes through. The zero value (or nil) is safe. See
// parse.Options.
type InspectOptions = parse.Options

// A Tag is one SES message tag: Name=Value in X-SES-MESSAGE-TAGS.
type Tag = parse.Tag

// A TagHeader is a custom tag header: a field, such as X-Campaign, whose
// value SES can publish as a CloudWatch dimension.
type TagHeader = parse.TagHeader

// TagsMode says what happens to the tags a message already has when
// Options.Tags is set: Replace (the default), Merge or Keep.
type TagsMode = inject.TagsMode

// Tags modes; see inject.TagsMode and parse.MergeTags.
const (
	Replace = inject.Replace
	Merge   = inject.Merge
	Keep    = inject.Keep
)

// Limits bounds the header block held in memory; see mimeheaders.Limits.
// The zero value is the defaults: 1 MiB, 64 KiB per line, 20,000 fields.
type Limits = headerblock.Limits

// Info is what SES will see in a message: the configuration set, the
// tags, the custom tag headers and Findings. See parse.Info.
type Info = parse.Info

// A Finding is something SES would reject or silently ignore, at a line
// (and column) of the message. See parse.Finding.
type Finding = parse.Finding

// Errors callers test with errors.As: a *SyntaxError is a header block
// that cannot be read safely (with its line), an *AmbiguityError a header
// other parsers read differently (refused unless Options allow it), a
// *ValueError an option value SES would refuse (Line 0) or a tag of the
// message that Merge cannot write back (with its line and column).
type (
	SyntaxError    = headerblock.SyntaxError
	AmbiguityError = headerblock.AmbiguityError
	ValueError     = parse.ValueError
)

// Errors callers test with errors.Is. The other reasons a header is
// refused are *AmbiguityError values too (a field after a line that ended
// the header block, several messages of an mbox file); a rewrite that
// would leave nothing is refused with inject.ErrNothingLeft.
var (
	ErrEmpty          = headerblock.ErrEmpty          // the message is empty
	ErrHeaderTooLarge = headerblock.ErrHeaderTooLarge // over one of the Limits, which the text names
	ErrNoHeader       = headerblock.ErrNoHeader       // no header block, or a UTF-8 BOM before it (see Options.AllowNoHeader)
	ErrBareCR         = headerblock.ErrBareCR         // a CR without LF in the header (see Options.AllowBareCR)
	ErrInvalidOption  = inject.ErrInvalidOption       // Options contradict themselves

	ErrInvalidConfigurationSet = parse.ErrInvalidConfigurationSet // in a *ValueError: Options.ConfigurationSet
	ErrInvalidTag              = parse.ErrInvalidTag              // in a *ValueError: a tag name or value
	ErrInvalidHeader           = parse.ErrInvalidHeader           // in a *ValueError: a custom tag header's name or value
)

// Rewrite copies the message in r to w with its SES fields changed as opts
// says, and returns the number of bytes written. Option values are
// validated before anything is read or written; nothing is written when
// the header cannot be read. The body is copied unchanged.
//
// To rewrite many messages with the same options, or to learn what
// changed, use an inject.Rewriter.
func Rewrite(w io.Writer, r io.Reader, opts *Options) (int64, error) {
	rw, err := inject.NewRewriter(opts)
	if err != nil {
		return 0, err
	}
	res, err := rw.Rewrite(w, r)
	return res.Written, err
}

// RewriteBytes returns msg with its SES fields changed as opts says.
func RewriteBytes(msg []byte, opts *Options) ([]byte, error) {
	rw, err := inject.NewRewriter(opts)
	if err != nil {
		return nil, err
	}
	out, _, err := rw.Bytes(msg)
	return out, err
}

// NewWriter returns a writer that rewrites the message written to it as
// Rewrite does and writes the result to w. It holds only the header block,
// until it has seen where the block ends, and passes the body straight
// through. Close must be called at the end of the message: it writes a
// header still held and reports the error, if any, the header was refused
// with; nothing is written to w when the header is refused. Close does not
// close w. The options are validated first.
func NewWriter(w io.Writer, opts *Options) (io.WriteCloser, error) {
	rw, err := inject.NewRewriter(opts)
	if err != nil {
		return nil, err
	}
	return rw.NewWriter(w), nil
}

// Inspect reads the header block of the message in r and reports the
// configuration set, tags, custom tag headers (named in opts) and the
// problems SES would see. The body is not read.
func Inspect(r io.Reader, opts *InspectOptions) (*Info, error) {
	return parse.Inspect(r, opts)
}

// Lint reads the whole message in r and reports, besides what Inspect
// finds, what SES would reject in its size, lines, fields and MIME
// structure. The body is streamed in constant memory.
func Lint(r io.Reader, opts *InspectOptions) (*Info, error) {
	return parse.Lint(r, opts)
}
