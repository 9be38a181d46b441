// Package headerblock reads and writes the header block of a raw RFC 5322
// message byte for byte, for the packages of this module: it is the
// machinery behind the public mimeheaders (which reads), inject (which
// rewrites) and the root package's Inspect and Lint. It knows nothing
// about Amazon SES.
//
// Call Read: it consumes the header block from a bufio.Reader and returns a Header
// whose fields keep their exact bytes: folding, spacing before the colon,
// name casing, 8-bit and NUL bytes, and line endings. Writing a Header that
// was not changed, followed by the rest of the reader, reproduces the input
// byte for byte.
//
// # The header block
//
// The rule every sesmime package uses:
//
//  1. An optional first line starting with "From " (an mbox separator) is
//     kept verbatim and is not a field.
//  2. A field starts with a name of one or more bytes in 33..126 except ':',
//     optional SP/HTAB, then ':'. A line starting with SP or HTAB continues
//     the previous field.
//  3. The block ends at the first empty line ("\r\n" or "\n" alone); that
//     line and everything after it is the body. A line that is neither a
//     field start nor a continuation also ends the block, and it and
//     everything after it is the body. End of input ends the block too.
//  4. If the first line (after any "From " line) is neither a field nor
//     empty, the message has no header: fields added to it are followed by
//     one empty line so that the original text stays body.
//  5. Lines starting with SP/HTAB at the very start (after any "From " line)
//     continue nothing: they are kept first, as they are,
//     and new fields go after them.
//  6. New lines use the line ending of the first line after any "From "
//     line (CRLF or LF; a lone CR is not a line ending), however long that
//     line is (it is read to its end within MaxHeaderBytes); if that line
//     has none, the "From " line's (unless the line ends in a lone CR,
//     which an added LF would turn into CRLF); otherwise CRLF.
//
// # What other parsers read differently
//
// Read does not refuse these; Header.Ambiguities lists them, each an
// *AmbiguityError with the line, for a caller (package inject) to refuse:
//
//   - ErrNoHeader, or ErrBOM when the first line starts with a UTF-8 BOM:
//     rule 4, a message whose header every parser loses.
//   - ErrBareCR: a CR not followed by LF before the first empty line (in
//     the block, or among the lines read after an early end), where many
//     parsers end a line.
//   - ErrLateField: when a non-field line ended the block early, Read
//     reads on to the first empty line (within the limits) and Late
//     returns the lines there that look like fields to a lenient parser;
//     those the caller names are reported with both lines.
//
// ErrMbox, several messages in one mbox file, is found in the body, which
// Read does not read; the error is defined here for the packages that do.
//
// # Limits
//
// Read holds the header block in memory and nothing else. Limits bounds it:
// MaxHeaderBytes (default 1 MiB) for the whole block, MaxLineBytes (default
// 64 KiB) for one physical line and MaxFields (default 20,000) for the
// number of fields. A zero limit means the default, a negative one means
// none. Fields that Limits.Exempt names count apart, each kind within the
// same limits: a rewrite exempts the fields it writes, so that its output
// reads back. Exceeding a limit returns a *SyntaxError wrapping
// ErrHeaderTooLarge, ErrLineTooLong or ErrTooManyFields, after reading at
// most the limit plus one bufio buffer. After an early end, the lines up to
// the first empty line count against MaxHeaderBytes and MaxLineBytes too;
// otherwise the body is never read beyond its first line.
package headerblock
