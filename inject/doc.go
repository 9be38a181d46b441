// Package inject rewrites the Amazon SES fields of a raw message as a stream.
//
// Call NewRewriter once with the Options, then Rewriter.Rewrite (a reader
// to a writer), Rewriter.Bytes, Rewriter.NewWriter (rewrite as the message
// is written) or Rewriter.Check (what would change, writing nothing) for
// each message; each reports what changed in a Result. The root package
// sesmime has one-call forms (Rewrite, RewriteBytes, NewWriter).
//
// A Rewriter reads the header block with mimeheaders, sets, replaces or removes
// X-SES-CONFIGURATION-SET, X-SES-MESSAGE-TAGS and custom tag headers as
// Options say, writes the header, and copies the body with io.Copy. Every
// other byte — other fields with their folding, spacing, casing, order and
// line endings, and the whole body — is written unchanged.
//
// A replaced field takes the position of its first occurrence and later
// duplicates are removed; a new field goes on top of the header block (after
// an mbox "From " line and after stray continuation lines that continue
// nothing). New lines use the message's own line ending. Field names match
// ignoring case and whitespace before the colon; the SES fields are written
// upper case (X-SES-CONFIGURATION-SET), custom tag headers as the caller
// gave them.
//
// Every option value is validated (package parse) before a byte is written,
// so nothing a caller passes can inject a header.
//
// # Limits
//
// Only the header block is held in memory, bounded by Options.Limits
// (mimeheaders defaults: 1 MiB block, 64 KiB line, 20,000 fields). The body
// is streamed and never limited. A Rewriter reuses its buffers and is safe
// for concurrent use.
package inject
