package sesfield

import (
	"strings"
	"testing"
)

// TestNameListsSorted: the field name lists are searched by binary search,
// so they must stay sorted, lower case and free of repeats.
func TestNameListsSorted(t *testing.T) {
	for name, list := range map[string][]string{"atMostOnceNames": atMostOnceNames, "reservedNames": reservedNames} {
		for i, n := range list {
			if n != strings.ToLower(n) {
				t.Errorf("%s: %q is not lower case", name, n)
			}
			if i > 0 && list[i-1] >= n {
				t.Errorf("%s: %q after %q: not sorted or repeated", name, n, list[i-1])
			}
		}
	}
	for _, n := range []string{"Subject", "MESSAGE-ID", "dkim-signature", "To", "Received", "X-SES-TENANT", "Content-Foo"} {
		if !Reserved(n) {
			t.Errorf("Reserved(%q) = false", n)
		}
	}
	for _, n := range []string{"X-Campaign", "X-Mailer-Id", "Listing"} {
		if Reserved(n) {
			t.Errorf("Reserved(%q) = true", n)
		}
	}
}

func TestReserved(t *testing.T) {
	for name, want := range map[string]bool{
		"X-SES-CONFIGURATION-SET": true,
		"x-ses-anything":          true,
		"Content-Type":            true,
		"CONTENT-whatever":        true,
		"Resent-From":             true,
		"ARC-Seal":                true,
		"From":                    true,
		"to":                      true,
		"Cc":                      true,
		"Bcc":                     true,
		"Received":                true,
		"Return-Path":             true,
		"DKIM-Signature":          true,
		"Message-ID":              true,
		"MIME-Version":            true,
		"Subject":                 true,
		"Date":                    true,
		"List-Unsubscribe":        true,
		"Feedback-ID":             true,
		"X-Campaign":              false,
		"X-SES":                   false,
		"campaign":                false,
		"X-Mailer":                false,
		"Fromage":                 false,
		"":                        false,
	} {
		if got := Reserved(name); got != want {
			t.Errorf("Reserved(%q) = %v, want %v", name, got, want)
		}
	}
}
