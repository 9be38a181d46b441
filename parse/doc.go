// Package parse knows what Amazon SES reads in a message: the
// X-SES-CONFIGURATION-SET and X-SES-MESSAGE-TAGS fields, custom tag headers
// (the source of CloudWatch "emailHeader" dimensions), the values SES
// accepts and the size it takes through each API.
//
// Call Inspect to read what SES will see in a message's header (the body
// is not read), Lint to check the whole message, and the validators
// (ValidateConfigurationSet, ValidateTag, ValidateHeader) to check a value
// before it is written. The root package sesmime offers Inspect and Lint
// too; this package adds the SES rules: the validators, the tags field
// (ParseTags, FormatTags, MergeTags) and the size SES accepts through each
// API (API.MaxSize, counted after base64 with Base64Len).
//
// The validators apply SES's documented rules and refuse anything that
// could inject a header: CR, LF, NUL, non-ASCII, spaces. Their errors are
// *ValueError values wrapping ErrInvalidConfigurationSet, ErrInvalidTag or
// ErrInvalidHeader and naming what is wrong:
// `invalid tag value "a.b": "." is not allowed`.
//
// ParseTags reads a tags field leniently (SP/HTAB around items trimmed,
// empty items ignored) and reports the first item SES would refuse;
// FormatTags writes the canonical form "name=value, name=value";
// MergeTags is the one merge rule (Merge in package inject, awsses and the
// CLI all use it).
//
// # Findings
//
// Inspect and Lint return an Info whose Findings say what SES would
// reject (Finding.Error) or silently ignore, each at a line and, where one
// byte is at fault, a column. Finding.Code is a stable lower-case word,
// listed with its severity in docs/check.md: Inspect reports config-set-invalid,
// config-set-duplicate, tags-duplicate-field, tag-malformed, tag-invalid,
// tag-duplicate-name, header-invalid, header-duplicate, ses-non-ascii,
// header-ends-early and no-header; Lint adds duplicate-field,
// size-too-large, line-too-long, header-bare-cr, header-nul, header-8bit,
// dkim-signs-ses, inbound-leftover, ses-fields-v2, mime-no-boundary,
// mime-no-final-boundary, mime-part-header and mime-multipart-syntax.
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
// before, so that its findings stay where they were (worded in sesmime's
// own terms): the first delimiter line's
// line ending is the one the others must use, a line that starts like a
// boundary line but is not one stops the walk, and a line without a colon
// in a part header is a finding (mimeheaders, which reads the message's own
// header, ends the block there instead). The tests compare the walk with
// go-message's, part by part.
//
// # Limits
//
// Inspect holds only the header block in memory, bounded by
// mimeheaders.Limits (default 1 MiB block, 64 KiB line, 20,000 fields); the
// body is never read past its first line.
//
// Lint holds the header block and, per level of nesting being walked, a
// 4 KiB buffer and the current part's header: that is read up to 64 KiB
// (with the preamble before the first part) and reported beyond. Entities
// nested 32 deep are not walked into, nor bodies with a
// Content-Transfer-Encoding other than 7bit, 8bit or binary.
package parse
