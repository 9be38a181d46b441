package rules_test

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"github.com/sesmime/sesmime/mimeheaders"
	"github.com/sesmime/sesmime/rules"
)

func readHeader(t *testing.T, msg string) *mimeheaders.Header {
	t.Helper()
	h, err := mimeheaders.Read(bufio.NewReader(strings.NewReader(msg)), mimeheaders.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestHeaderEnvelope checks which fields stand in for an envelope, and the
// errors of the fields that cannot.
func TestHeaderEnvelope(t *testing.T) {
	cases := []struct {
		name     string
		header   string
		from     string // the address, or the error
		field    string
		rcpts    string // space-separated, or the error
		useRcpts bool
	}{
		{"return-path first", "From: a@x\nSender: s@x\nReturn-Path: <r@x>\nTo: t@x\n", "r@x", "Return-Path", "t@x", true},
		{"sender before from", "From: a@x\nSender: S <s@x>\n", "s@x", "Sender", "", true},
		{"from", "From: \"A, B\" <a@x>\n", "a@x", "From", "", true},
		{"null return-path", "Return-Path: < >\nFrom: a@x\n", "", "Return-Path", "", true},
		{"first return-path", "Return-Path: <one@x>\nReturn-Path: <two@x>\n", "one@x", "Return-Path", "", true},
		{"two from addresses", "From: a@x, b@x\n", "error: mail_from from the From field: 2 addresses, want 1", "From", "", false},
		{"no sender field", "Subject: s\n", "error: mail_from: no Return-Path, Sender or From field", "", "", false},
		{"unparsable from", "From: <<\n", "error: mail_from from the From field: mail: ", "From", "", false},
		{"encoded name in unknown charset", "From: =?x-unknown?q?abc?= <a@x>\nTo: =?koi8-r?b?8s/T08nR?= <t@x>\n", "a@x", "From", "t@x", true},
		{"every recipient field, once each", "To: a@x, b@x\nCc: B@X\nBcc: c@x\nTo: d@x\nResent-To: no@x\n", "error: mail_from: no", "", "a@x b@x d@x c@x", true},
		{"group and empty bcc", "To: friends: a@x, b@x;\nCc: undisclosed-recipients:;\nBcc:\n", "error: mail_from: no", "", "a@x b@x", true},
		{"folded to", "To: a@x,\n b@x\n", "error: mail_from: no", "", "a@x b@x", true},
		{"bad cc", "To: a@x\nCc: @@\n", "error: mail_from: no", "", "error: rcpt_to from the Cc field: mail: ", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := readHeader(t, tc.header+"\nbody\n")
			from, field, err := rules.HeaderSender(h)
			if want, ok := strings.CutPrefix(tc.from, "error: "); ok {
				ae, isAE := errors.AsType[*rules.AddressError](err)
				if err == nil || !strings.HasPrefix(err.Error(), want) || !isAE || ae.Field != tc.field || field != tc.field {
					t.Errorf("HeaderSender = %q from %q, %v; want the *AddressError %q... about %q", from, field, err, want, tc.field)
				}
				if noField := tc.field == ""; noField != errors.Is(err, rules.ErrNoSender) {
					t.Errorf("HeaderSender: errors.Is(%v, ErrNoSender) = %v", err, !noField)
				}
			} else if err != nil || from != tc.from || field != tc.field {
				t.Errorf("HeaderSender = %q, %q, %v; want %q from %s", from, field, err, tc.from, tc.field)
			}
			if !tc.useRcpts {
				return
			}
			rcpts, err := rules.HeaderRecipients(h)
			if want, ok := strings.CutPrefix(tc.rcpts, "error: "); ok {
				if _, isAE := errors.AsType[*rules.AddressError](err); !isAE || !strings.HasPrefix(err.Error(), want) {
					t.Errorf("HeaderRecipients = %q, %v; want the *AddressError %q...", rcpts, err, want)
				}
			} else if err != nil || strings.Join(rcpts, " ") != tc.rcpts {
				t.Errorf("HeaderRecipients = %q, %v; want %q", rcpts, err, tc.rcpts)
			}
		})
	}
}
