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

// InjectBytes returns msg with its SES fields changed as opts says.
func InjectBytes(msg []byte, opts *Options) ([]byte, error) {
	return inject.Bytes(msg, opts)
}

// Inspect reads the header block of the message in r and reports the
// configuration set, tags and problems SES would see. The body is not read.
func Inspect(r io.Reader) (*Info, error) {
	return parse.Read(r)
}
