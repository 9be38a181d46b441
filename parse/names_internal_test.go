package parse

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
		if !ReservedHeader(n) {
			t.Errorf("ReservedHeader(%q) = false", n)
		}
	}
	for _, n := range []string{"X-Campaign", "X-Mailer-Id", "Listing"} {
		if ReservedHeader(n) {
			t.Errorf("ReservedHeader(%q) = true", n)
		}
	}
}
