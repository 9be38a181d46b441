// Package smtpsink is a recording SMTP server for tests: every message it
// accepts is kept with its envelope and its exact bytes, as go-smtp hands
// them over (after dot-unstuffing, nothing else changed).
//
// A test starts one with [Start], points a client or a Postfix relayhost at
// [Sink.Addr], and reads what arrived with [Sink.Messages] or waits for it
// with [Sink.Wait]. [Options.Data] and [Options.Rcpt] script replies
// (return an *smtp.SMTPError for a chosen code), so the same sink can play a
// failing upstream.
//
// # Limits
//
// Messages are held in memory; MaxMessageBytes (default 64 MiB) bounds each.
// Lines may be up to 1 MiB. It listens on loopback only.
package smtpsink
