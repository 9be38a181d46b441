package sesmime

import (
	"io"

	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/parse"
)

// Options says what Inject changes; see inject.Options. The zero value (or
// nil) changes nothing.
type Options = inject.Options

// A Tag is one SES message tag; see parse.Tag.
type Tag = parse.Tag

// A Header is a custom tag header; see parse.Header.
type Header = parse.Header

// Info is what SES will see in a message header; see parse.Info.
type Info = parse.Info

// Tags modes; see inject.TagsMode.
const (
	Replace = inject.Replace
	Merge   = inject.Merge
	Keep    = inject.Keep
)

// Inject copies the message in r to w with its SES fields changed as opts
// says, and returns the number of bytes written. Option values are validated
// before anything is read or written; nothing is written when the header
// cannot be read. The body is copied unchanged.
func Inject(w io.Writer, r io.Reader, opts *Options) (int64, error) {
	return inject.Rewrite(w, r, opts)
}

// NewWriter returns a writer that rewrites the message written to it as
// Inject does and writes the result to w. It holds only the header block,
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

// InjectBytes returns msg with its SES fields changed as opts says.
func InjectBytes(msg []byte, opts *Options) ([]byte, error) {
	return inject.Bytes(msg, opts)
}

// Inspect reads the header block of the message in r and reports the
// configuration set, tags and problems SES would see. The body is not read.
func Inspect(r io.Reader) (*Info, error) {
	return parse.Read(r)
}
