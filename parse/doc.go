// Package parse reads and validates what Amazon SES sees in a message's
// header: the X-SES-CONFIGURATION-SET field, the X-SES-MESSAGE-TAGS field
// and custom tag headers (the source of CloudWatch "emailHeader"
// dimensions).
//
// The validators (ValidateConfigurationSet, ValidateTag, ValidateHeader)
// apply SES's documented rules and refuse anything that could inject a
// header: CR, LF, NUL, non-ASCII, spaces. Their errors are *ValueError
// values wrapping an exported sentinel and naming the offending byte.
//
// ParseTags reads a tags field leniently (SP/HTAB around items trimmed,
// empty items ignored); FormatTags writes the canonical form
// "name=value, name=value". Read scans only the header block of a message
// and returns an Info with the values found and Findings for what SES would
// reject or silently ignore. Lint reads the whole message — the body
// streamed in constant memory, MIME parts walked read-only — and adds
// findings about size, long lines, duplicated fields, DKIM signatures over
// X-SES-* fields, inbound leftovers and MIME structure.
//
// # MIME structure
//
// Lint's walk finds parts by their boundary lines (RFC 2046 §5.1.1: a
// delimiter is CRLF or LF, "--", the boundary, optional SP/HTAB; the
// close-delimiter has "--" after the boundary; preamble and epilogue are
// skipped), enters multipart bodies, message/rfc822 and message/global
// parts, and the parts of a multipart/digest, which default to
// message/rfc822. It reads part headers and boundary lines as
// github.com/emersion/go-message's textproto package does, which Lint used
// before, so that its findings did not change: the first delimiter line's
// line ending is the one the others must use, a line that starts like a
// boundary line but is not one stops the walk, and a line without a colon
// in a part header is a finding (mimeheaders, which reads the message's own
// header, ends the block there instead). The tests compare the walk with
// go-message's, part by part.
//
// # Limits
//
// Read holds only the header block in memory, bounded by
// mimeheaders.Limits (default 1 MiB block, 64 KiB line, 20,000 fields); the
// body is never read past its first line.
//
// Lint holds the header block and, per level of nesting being walked, a
// 4 KiB buffer and the current part's header: that is read up to 64 KiB
// (with the preamble before the first part) and reported beyond. Entities
// nested 32 deep are not walked into, nor bodies with a
// Content-Transfer-Encoding other than 7bit, 8bit or binary.
package parse
