// Package relay is sesmime-relay: an SMTP relay in front of Amazon SES that
// applies a rules file (package github.com/sesmime/sesmime/rules) to every
// message, changing only the X-SES-* fields and custom tag headers the rules
// manage, and answers 250 only after the upstream accepted the message.
//
// A Relay reads each message whole (within MaxMessageBytes and a memory cap
// shared by all sessions), evaluates the rules on the envelope and header,
// rewrites the header with the sesmime library and sends the result with
// SESv2 SendEmail (Content.Raw), SES v1 SendRawEmail, or an SMTP client
// whose transaction was opened at MAIL and fed each RCPT as it arrived.
// There is no local spool: a failure is a 4xx and the client's own queue
// retries.
//
// Replies: upstream SMTP replies pass through (421 becomes 451); SES API
// throttling is 454 4.7.0; MessageRejected, unverified identities, an
// unknown configuration set and other 4xx HTTP errors are 554 (permanent);
// network, timeout, credential and SES server errors are 451 4.4.1; the
// local rate limit is 451 4.7.0 at RCPT. A recipient whose rules would pick
// another configuration set or tags than the transaction's first recipient
// is deferred with 452 4.5.3, so one transaction is one message upstream;
// the client sends it again in a new transaction (RFC 5321 §3.3).
//
// # Limits
//
// Message size: SES's limit counted after base64 (40 MB for SMTP and SESv2,
// 10 MB for v1), advertised in EHLO SIZE and checked at MAIL SIZE= and
// while reading. Recipients: MaxRecipients (at most 50 for SES v1). Lines:
// MaxLineLength (default 2000). Memory: MemoryLimit bytes of messages held
// at once by all sessions; beyond it 452 4.3.1. Reads: ReadTimeout of
// idleness, refreshed while DATA arrives, and DataTimeout for a whole
// transfer.
package relay
