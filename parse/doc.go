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
// streamed in constant memory, MIME parts walked read-only with go-message —
// and adds findings about size, long lines, duplicated fields, DKIM
// signatures over X-SES-* fields, inbound leftovers and MIME structure.
//
// # Limits
//
// Read holds only the header block in memory, bounded by
// mimeheaders.Limits (default 1 MiB block, 64 KiB line, 20,000 fields); the
// body is never read past its first line.
package parse
