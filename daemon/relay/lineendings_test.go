package relay

import (
	"bytes"
	"io"
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

// FuzzWriteData: writeData's direct path puts on the wire exactly what
// go-smtp's dot writer sends for every message checkLineEndings passes.
func FuzzWriteData(f *testing.F) {
	for _, s := range []string{"a\r\nb\r\n", ".a\r\n", "a\r\n.\r\n", "a\r\n..b\r\n.", "a\r\r\r\n", "\r", ".", "a\rb\r\n.c"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msg := append(bytes.Clone(body), '\r', '\n')
		if _, ok := checkLineEndings(msg); !ok {
			return
		}
		want := dataWire(nil, msg)
		got := dataWire(func(b *bytes.Buffer) io.Writer { return b }, msg)
		if !bytes.Equal(got, want) {
			t.Fatalf("writeData(%q) sends %q, the dot writer %q", msg, got, want)
		}
	})
}
