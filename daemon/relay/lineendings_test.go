package relay

import (
	"bytes"
	"testing"
)

// FuzzCheckLineEndings: checkLineEndings says a message passes exactly when
// the client's writer sends it unchanged, and otherwise names the first
// byte it changes.
func FuzzCheckLineEndings(f *testing.F) {
	for _, s := range []string{"a\r\nb\r\n", "a\nb", "a\r\r\nb\r\n", "a\r\r\r\n", "\r", "\n", ".a\r\n", "a\rb\r\n", "x\r\n.\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		// What go-smtp's server hands Data ends in CRLF, and so does the
		// rewritten message.
		msg := append(bytes.Clone(body), '\r', '\n')
		got := clientData(msg)
		i, ok := checkLineEndings(msg)
		if same := bytes.Equal(got, msg); ok != same {
			t.Fatalf("checkLineEndings(%q) = %d, %v; the writer sends %q", msg, i, ok, got)
		}
		if !ok && !bytes.Equal(got[:i], msg[:i]) {
			t.Fatalf("checkLineEndings(%q) = %d, but the writer changes an earlier byte: %q", msg, i, got)
		}
	})
}
