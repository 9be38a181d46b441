// Package milter applies sesmime's rules inside an MTA (Postfix,
// Sendmail) over the milter protocol.
//
// At end of message a Server evaluates the rules (package rules) on the
// envelope (sender, recipients), the AUTH user, the client address, the
// listener (Postfix's {daemon_name}) and the header fields the MTA showed,
// runs the library's rewrite (package inject) on that header, and turns
// the difference into milter edits ([Plan]): new fields inserted at
// index 0, a replaced field changed in place, duplicates deleted from the
// last index down. The edits are checked by applying them as the MTA does
// ([Apply]) before they are sent, so the field values, positions and
// counts are exactly the library's. The body is never requested.
//
// Values are exact when the MTA grants leading-space mode
// (SMFIP_HDR_LEADSPC; Postfix 3.x and Sendmail 8.14+ do); without it the
// MTA hides one space after the colon and the milter rebuilds it.
//
// Policies: recipients the rules give different decisions are refused
// (RejectMixed, 550 5.7.1 naming the rules) or get the first recipient's
// decision (FirstMixed); a message that cannot be decided or rewritten
// gets OnError (TempFail by default: 451 4.3.0 with the reason).
//
// # Limits
//
// The header is held in memory up to Config.Limits.MaxHeaderBytes
// (1 MiB); a field over MaxFieldBytes (50 KB) is refused, since Postfix
// cuts such fields when a milter is attached. The work at end of message
// is bounded by Config.Timeout (10 s).
package milter
