package parse

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sesmime/sesmime/mimeheaders"
)

// Field names SES reads.
const (
	ConfigurationSetField = "X-SES-CONFIGURATION-SET"
	TagsField             = "X-SES-MESSAGE-TAGS"
	SESPrefix             = "X-SES-"
)

// SES limits on names and values.
const (
	MaxConfigurationSetLen = 64
	MaxTagLen              = 256
)

// Errors wrapped by *ValueError.
var (
	ErrInvalidConfigurationSet = errors.New("parse: configuration set must be 1-64 bytes of A-Z a-z 0-9 _ -")
	ErrInvalidTagName          = errors.New("parse: tag name must be 1-256 bytes of A-Z a-z 0-9 _ -")
	ErrReservedTagName         = errors.New("parse: tag name with ':' is reserved (only ses:feedback-id-a and ses:feedback-id-b may be sent)")
	ErrInvalidTagValue         = errors.New("parse: tag value must be 1-256 bytes of A-Z a-z 0-9 _ -")
	ErrInvalidHeaderName       = errors.New("parse: header name must be 1 or more bytes of A-Z a-z 0-9 _ -")
	ErrReservedHeaderName      = errors.New("parse: header name is reserved (X-SES-*, address, structural or unique field)")
	ErrInvalidHeaderValue      = errors.New("parse: header value must be 1 or more bytes of A-Z a-z 0-9 _ @ . - and fit on one 998-byte line")
)

// A ValueError reports a configuration set, tag or header that SES would
// reject or silently ignore.
type ValueError struct {
	What   string // "configuration set", "tag name", "tag value", "header name" or "header value"
	Value  string // the value as given
	Offset int    // byte offset of the first bad byte, -1 when the length or the name itself is at fault
	Err    error  // one of the ErrInvalid* or ErrReserved* sentinels
}

func (e *ValueError) Error() string {
	if e.Offset >= 0 && e.Offset < len(e.Value) {
		return fmt.Sprintf("invalid %s %q: byte %d (%q): %v", e.What, e.Value, e.Offset, e.Value[e.Offset:e.Offset+1], e.Err)
	}
	return fmt.Sprintf("invalid %s %q: %v", e.What, e.Value, e.Err)
}

func (e *ValueError) Unwrap() error { return e.Err }

// A Tag is one SES message tag.
type Tag struct {
	Name  string
	Value string
}

// String returns the tag as "name=value".
func (t Tag) String() string { return t.Name + "=" + t.Value }

// A Header is a custom tag header: a field whose value SES can publish as a
// CloudWatch dimension named after the field.
type Header struct {
	Name  string
	Value string
}

// ValidateConfigurationSet reports whether name is a valid configuration set
// name: 1 to 64 bytes of A-Z, a-z, 0-9, '_' and '-'.
func ValidateConfigurationSet(name string) error {
	return checkToken("configuration set", name, MaxConfigurationSetLen, "", ErrInvalidConfigurationSet)
}

// ValidateTag reports whether t can be sent to SES: name and value 1 to 256
// bytes of A-Z, a-z, 0-9, '_' and '-'; the only names with ':' allowed are
// ses:feedback-id-a and ses:feedback-id-b. '.' and '@' are refused in
// values: SES has rejected them in at least one documented case.
func ValidateTag(t Tag) error {
	if strings.Contains(t.Name, ":") {
		if t.Name != "ses:feedback-id-a" && t.Name != "ses:feedback-id-b" {
			return &ValueError{What: "tag name", Value: t.Name, Offset: strings.IndexByte(t.Name, ':'), Err: ErrReservedTagName}
		}
	} else if err := checkToken("tag name", t.Name, MaxTagLen, "", ErrInvalidTagName); err != nil {
		return err
	}
	return checkToken("tag value", t.Value, MaxTagLen, "", ErrInvalidTagValue)
}

// ValidateHeader reports whether h can be written as a custom tag header:
// a name of A-Z, a-z, 0-9, '_' and '-' that is not reserved (see
// ReservedHeader), and a value of A-Z, a-z, 0-9, '_', '@', '.' and '-' that
// fits with its name on one line of 998 bytes.
func ValidateHeader(h Header) error {
	if err := checkToken("header name", h.Name, 0, "", ErrInvalidHeaderName); err != nil {
		return err
	}
	if ReservedHeader(h.Name) {
		return &ValueError{What: "header name", Value: h.Name, Offset: -1, Err: ErrReservedHeaderName}
	}
	if err := checkToken("header value", h.Value, 0, "@.", ErrInvalidHeaderValue); err != nil {
		return err
	}
	if len(h.Name)+2+len(h.Value) > mimeheaders.MaxLineLength {
		return &ValueError{What: "header value", Value: h.Value, Offset: -1, Err: ErrInvalidHeaderValue}
	}
	return nil
}

// checkToken checks that s is 1..max bytes (max <= 0: no upper bound) of
// A-Z a-z 0-9 _ - and the bytes in extra.
func checkToken(what, s string, max int, extra string, sentinel error) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isTokenByte(c) && strings.IndexByte(extra, c) < 0 {
			return &ValueError{What: what, Value: s, Offset: i, Err: sentinel}
		}
	}
	if s == "" || (max > 0 && len(s) > max) {
		return &ValueError{What: what, Value: s, Offset: -1, Err: sentinel}
	}
	return nil
}

func isTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

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

// isAtMostOnce reports whether the lower-case field name l is in
// atMostOnceNames.
func isAtMostOnce(l string) bool {
	_, ok := slices.BinarySearch(atMostOnceNames, l)
	return ok
}

// ReservedHeader reports whether name may not be used for a custom tag
// header: an X-SES-*, Content-*, Resent-* or ARC-* field, an address or
// trace field (From, To, Cc, Bcc, Sender, Reply-To, Received, Return-Path),
// a signature, or any field SES accepts at most once (Subject, Date,
// Message-ID, MIME-Version, ...). Case is ignored.
func ReservedHeader(name string) bool {
	l := strings.ToLower(name)
	for _, p := range []string{"x-ses-", "content-", "resent-", "arc-"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	_, ok := slices.BinarySearch(reservedNames, l)
	return ok || isAtMostOnce(l)
}
