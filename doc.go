// Package sesmime inserts, rewrites or removes the Amazon SES
// event-publishing fields of a raw email — X-SES-CONFIGURATION-SET,
// X-SES-MESSAGE-TAGS and custom tag headers — while every other byte of the
// message stays exactly as it was.
//
// Most users need three calls:
//
//   - Inject streams a message from an io.Reader to an io.Writer;
//   - InjectBytes does the same on a []byte;
//   - Inspect reads what SES will see in a message's header.
//
// The work is done by three packages, each with one job:
// mimeheaders (the byte-exact header block), parse (SES names, values and
// fields) and inject (the streaming rewriter).
//
// # Limits
//
// Only the header block is held in memory (default at most 1 MiB, 64 KiB per
// line, 20,000 fields; see Options.Limits). The body is streamed unchanged
// and never limited.
package sesmime
