// Package rules chooses, per message, the configuration set, tags and
// custom tag headers SES should see: the rules file shared by sesmime
// inject --rules, sesmime-relay and sesmime-milter.
//
// A rules file is TOML: ordered [[rule]] tables, the first whose match keys
// all match wins, and a [default] that applies when none does.
//
//	[default]
//	config_set = "transactional"
//	strip_client_ses = true
//
//	[[rule]]
//	name = "newsletter"
//	mail_from = ["*@news.example.com"]       # address globs: * ? and \ to quote
//	header = { "List-Id" = "*weekly*" }       # glob on the unfolded field value
//	config_set = "newsletters"
//	tags = { campaign = "weekly" }
//	tags_mode = "merge"                       # replace (default), merge or keep
//	tag_from_header = { variant = "X-Variant" }
//
//	[[rule]]
//	client = ["10.0.0.0/8"]
//	header_absent = ["X-Mailer"]
//	reject = "internal senders must authenticate"
//
// Match keys (each a string or a list; a list matches when any item does):
// mail_from and rcpt_to (address globs; "<>" is the null sender), auth_user
// (globs; never matches an unauthenticated message), client (CIDRs or
// addresses), listener (globs on the listener's name), header (a table of
// field name = glob; the field must be present with a matching value) and
// header_absent (field names that must not be present). Globs ignore ASCII
// case. A rule without match keys matches every message.
//
// Actions: config_set, tags (name = value), tags_mode, headers (custom tag
// headers, name = value), tag_from_header (tag name = field name: the
// field's value becomes the tag's value), strip_client_ses (remove every
// X-SES-* field the client sent before setting ours) and reject = "reason"
// (refuse the message; it cannot be combined with other actions). Actions
// are not inherited: a matching rule's actions replace the default's.
//
// Every key, name and value is checked when the file loads, against SES's
// rules for configuration sets, tags and custom headers; a problem is an
// *Error with the file, line and column. A tag_from_header value is known
// only per message: one SES would refuse is a *HeaderError from Evaluate,
// never a silently dropped tag.
//
// # Recipients
//
// Evaluate decides for a whole message (rcpt_to matches when any recipient
// does). Split decides per recipient and groups recipients with equal
// decisions: one message carries one configuration set, so several groups
// mean several messages. Class lets a relay keep one decision per SMTP
// transaction by comparing recipients at RCPT time, before the header is
// known.
//
// # Dry runs
//
// Decision.Explain returns the lines sesmime inject --rules --dry-run and
// sesmime-relay explain print for a decision, and Summary names the groups
// of recipients that cannot share a message. Set.Uses tells whether any
// rule matches on an envelope key, so a command that must guess that key
// (from the header of a file) guesses only when it matters.
//
// # Rewriting
//
// A Rewriter reads a message's header once, asks a DecideFunc (Evaluate or
// Split with the message's envelope) for its decision and rewrites the
// message with it, keeping one inject.Rewriter per distinct decision. A
// command that has messages but not their envelopes (sesmime inject
// --rules on files) can decide on the addresses HeaderSender and
// HeaderRecipients read from the header, which a sender can forge.
//
// # Limits
//
// A rules file is read whole; rules are matched in order, globs in time
// linear in the product of pattern and subject length.
package rules
