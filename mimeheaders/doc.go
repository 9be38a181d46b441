// Package mimeheaders reads the header block of a raw RFC 5322 message
// byte for byte. It knows nothing about Amazon SES.
//
// Call Read with a bufio.Reader positioned at the start of a message: it
// returns a Header whose Fields keep their exact bytes (folding, spacing
// before the colon, name casing, 8-bit and NUL bytes, line endings) and
// leaves the reader at the body. Header.Bytes followed by the rest of the
// reader is the input, byte for byte.
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
//     empty, the message has no header: it has no fields.
//  5. Lines starting with SP/HTAB at the very start (after any "From " line)
//     continue nothing: they are kept as they are, and are not a field.
//
// Read does not refuse what other parsers read differently (no header
// block, a CR without LF, a field after a line that ended the block
// early, several mbox messages): the root package sesmime does, when it
// rewrites a message, with a *sesmime.SyntaxError.
//
// # Limits
//
// Read holds the header block in memory and nothing else. Limits bounds it:
// MaxHeaderBytes (default 1 MiB) for the whole block, MaxLineBytes (default
// 64 KiB) for one physical line and MaxFields (default 20,000) for the
// number of fields. A zero limit means the default, a negative one means
// none. Exceeding a limit returns a *SyntaxError wrapping
// ErrHeaderTooLarge (its text names the limit), after reading at
// most the limit plus one bufio buffer.
package mimeheaders
