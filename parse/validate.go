package parse

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Field names SES reads.
const (
	ConfigurationSetField = "X-SES-CONFIGURATION-SET"
	TagsField             = "X-SES-MESSAGE-TAGS"
	SESPrefix             = "X-SES-"
)

// SES limits on names and values.
const (
	maxConfigurationSetLen = 64
	maxTagLen              = 256
)

// Errors wrapped by *ValueError.
var (
	ErrInvalidConfigurationSet = errors.New("invalid configuration set")
	ErrInvalidTagName          = errors.New("invalid tag name")
	ErrReservedTagName         = errors.New("reserved tag name")
	ErrInvalidTagValue         = errors.New("invalid tag value")
	ErrInvalidHeaderName       = errors.New("invalid header name")
	ErrReservedHeaderName      = errors.New("reserved header name")
	ErrInvalidHeaderValue      = errors.New("invalid header value")
	ErrMalformedTag            = errors.New("malformed tag")
)

// A ValueError reports a configuration set, tag or header that SES would
// reject or silently ignore. Its text names the value and what is wrong
// with it: `invalid tag value "a.b": "." is not allowed`.
type ValueError struct {
	Value  string // the value as given
	Column int    // 1-based byte of Value at fault; 0 when its length, or the name itself, is
	Err    error  // one of the ErrInvalid*, ErrReserved* or ErrMalformedTag sentinels
}

func (e *ValueError) Error() string {
	if e.Value == "" && e.Err != ErrMalformedTag {
		return fmt.Sprintf("%v: empty", e.Err)
	}
	return fmt.Sprintf("%v %s: %s", e.Err, quote(e.Value), e.reason())
}

// reason says what is wrong with the value.
func (e *ValueError) reason() string {
	switch {
	case e.Err == ErrReservedTagName:
		return `only ses:feedback-id-a and ses:feedback-id-b may contain ":"`
	case e.Err == ErrReservedHeaderName:
		return "X-SES-*, Content-*, Resent-*, ARC-*, address, trace and unique fields cannot be tag headers"
	case e.Err == ErrMalformedTag:
		return "not name=value"
	case e.Column > 0 && e.Column <= len(e.Value):
		return fmt.Sprintf("%q is not allowed", e.Value[e.Column-1:e.Column])
	case e.Err == ErrInvalidConfigurationSet:
		return fmt.Sprintf("longer than %d bytes", maxConfigurationSetLen)
	case e.Err == ErrInvalidTagName || e.Err == ErrInvalidTagValue:
		return fmt.Sprintf("longer than %d bytes", maxTagLen)
	case e.Err == ErrInvalidHeaderValue:
		return "does not fit on one 998-byte line with its name"
	}
	return "not allowed"
}

func (e *ValueError) Unwrap() error { return e.Err }

// quote returns s quoted, cut to 64 bytes.
func quote(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%q...", s[:64])
	}
	return fmt.Sprintf("%q", s)
}

// A Tag is one SES message tag.
type Tag struct {
	Name  string
	Value string
}

// String returns the tag as "name=value".
func (t Tag) String() string { return t.Name + "=" + t.Value }

// A TagHeader is a custom tag header: a field whose value SES can publish
// as a CloudWatch dimension named after the field. It is not the header
// block of a message (mimeheaders.Header).
type TagHeader struct {
	Name  string
	Value string
}

// ValidateConfigurationSet reports whether name is a valid configuration set
// name: 1 to 64 bytes of A-Z, a-z, 0-9, '_' and '-'.
func ValidateConfigurationSet(name string) error {
	return checkToken(name, maxConfigurationSetLen, "", ErrInvalidConfigurationSet)
}

// ValidateTag reports whether t can be sent to SES: name and value 1 to 256
// bytes of A-Z, a-z, 0-9, '_' and '-'; the only names with ':' allowed are
// ses:feedback-id-a and ses:feedback-id-b. '.' and '@' are refused in
// values: SES has rejected them in at least one documented case.
func ValidateTag(t Tag) error {
	if strings.Contains(t.Name, ":") {
		if t.Name != "ses:feedback-id-a" && t.Name != "ses:feedback-id-b" {
			return &ValueError{Value: t.Name, Column: strings.IndexByte(t.Name, ':') + 1, Err: ErrReservedTagName}
		}
	} else if err := checkToken(t.Name, maxTagLen, "", ErrInvalidTagName); err != nil {
		return err
	}
	return checkToken(t.Value, maxTagLen, "", ErrInvalidTagValue)
}

// ValidateHeader reports whether h can be written as a custom tag header:
// a name of A-Z, a-z, 0-9, '_' and '-' that is not reserved (see
// ReservedHeader), and a value of A-Z, a-z, 0-9, '_', '@', '.' and '-' that
// fits with its name on one line of 998 bytes.
func ValidateHeader(h TagHeader) error {
	if err := checkToken(h.Name, 0, "", ErrInvalidHeaderName); err != nil {
		return err
	}
	if ReservedHeader(h.Name) {
		return &ValueError{Value: h.Name, Err: ErrReservedHeaderName}
	}
	if err := checkToken(h.Value, 0, "@.", ErrInvalidHeaderValue); err != nil {
		return err
	}
	if len(h.Name)+2+len(h.Value) > maxLineLength {
		return &ValueError{Value: h.Value, Err: ErrInvalidHeaderValue}
	}
	return nil
}

// checkToken checks that s is 1..max bytes (max <= 0: no upper bound) of
// A-Z a-z 0-9 _ - and the bytes in extra.
func checkToken(s string, max int, extra string, sentinel error) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isTokenByte(c) && strings.IndexByte(extra, c) < 0 {
			return &ValueError{Value: s, Column: i + 1, Err: sentinel}
		}
	}
	if s == "" || (max > 0 && len(s) > max) {
		return &ValueError{Value: s, Err: sentinel}
	}
	return nil
}

// maxLineLength is the longest line RFC 5322 allows, without its ending.
const maxLineLength = 998

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
