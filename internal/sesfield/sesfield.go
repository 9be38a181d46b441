// Package sesfield names the fields Amazon SES reads in a message and
// knows which field names SES treats specially: the rules that parse,
// inject and the commands share.
package sesfield

import (
	"slices"
	"strings"
)

// Field names SES reads.
const (
	ConfigurationSet = "X-SES-CONFIGURATION-SET"
	Tags             = "X-SES-MESSAGE-TAGS"
	Prefix           = "X-SES-" // of every field SES reads or adds
)

// atMostOnceNames lists, lower case and sorted, the fields SES rejects a
// message for when they appear twice ("Duplicate header 'NAME'."). A
// sorted list costs nothing at start-up, unlike a map built by init.
var atMostOnceNames = []string{
	"accept-language", "archived-at", "auto-submitted", "bounces-to", "comments",
	"content-alternative", "content-base", "content-class", "content-description",
	"content-disposition", "content-duration", "content-id", "content-language", "content-length",
	"content-location", "content-md5", "content-transfer-encoding", "content-type", "date",
	"delivered-to", "disposition-notification-options", "disposition-notification-to",
	"dkim-signature", "domainkey-signature", "errors-to", "from", "importance", "in-reply-to",
	"keywords", "list-archive", "list-help", "list-id", "list-owner", "list-post",
	"list-subscribe", "list-unsubscribe", "list-unsubscribe-post", "message-context",
	"message-id", "mime-version", "organization", "original-from", "original-message-id",
	"original-recipient", "original-subject", "precedence", "priority", "references", "reply-to",
	"return-path", "return-receipt-to", "sender", "sensitivity", "solicitation", "subject",
	"thread-index", "thread-topic", "user-agent", "vbr-info",
}

// reservedNames lists, lower case and sorted, the fields that must never be
// written as custom tag headers besides those of atMostOnceNames: address
// and trace fields.
var reservedNames = []string{
	"arc-authentication-results", "arc-message-signature", "arc-seal", "authentication-results",
	"bcc", "cc", "feedback-id", "received", "to",
}

// AtMostOnce reports whether the lower-case field name l is one SES
// rejects a message for when it appears twice.
func AtMostOnce(l string) bool {
	_, ok := slices.BinarySearch(atMostOnceNames, l)
	return ok
}

// Reserved reports whether name may not be used for a custom tag header: an X-SES-*, Content-*, Resent-* or ARC-* field, an address or
// trace field (From, To, Cc, Bcc, Sender, Reply-To, Received, Return-Path),
// a signature, or any field SES accepts at most once (Subject, Date,
// Message-ID, MIME-Version, ...). Case is ignored.
func Reserved(name string) bool {
	l := strings.ToLower(name)
	for _, p := range []string{"x-ses-", "content-", "resent-", "arc-"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	_, ok := slices.BinarySearch(reservedNames, l)
	return ok || AtMostOnce(l)
}
