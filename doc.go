// Package sesmime inserts, rewrites or removes the Amazon SES
// event-publishing fields of a raw email — X-SES-CONFIGURATION-SET,
// X-SES-MESSAGE-TAGS and custom tag headers — while every other byte of the
// message stays exactly as it was.
//
// Call:
//
//   - Rewrite to stream a message from an io.Reader to an io.Writer;
//   - RewriteBytes to do the same on a []byte;
//   - NewWriter to rewrite a message as it is written (net/smtp's
//     Client.Data, or a WriteTo method such as go-message's);
//   - Inspect to read what SES will see in a message's header;
//   - Lint to check the whole message: size, lines, fields, MIME structure.
//
// Options says what to change; Tag and TagHeader are its values. Errors
// are a *SyntaxError (a header block that cannot be read safely, with its
// line), an *AmbiguityError (a header other parsers read differently) or
// a *ValueError (an option, or a tag of the message to merge, that SES
// would refuse), wrapping the Err* sentinels; test them with errors.Is and
// errors.As.
//
// The work is done by packages each with one job: mimeheaders (a
// byte-exact header block reader), parse (SES names, values, the fields SES reads
// and lint) and inject (the streaming rewriter; its Rewriter reuses its
// buffers across messages and reports what changed).
//
// # Limits
//
// Only the header block is held in memory (default at most 1 MiB, 64 KiB per
// line, 20,000 fields; see Options.Limits). The body is streamed unchanged
// and never limited.
package sesmime
