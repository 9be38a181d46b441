package relay

import (
	"bufio"
	"bytes"
	"net/textproto"
	"testing"
)

// dotWritten is what the go-smtp client's DATA writer (net/textproto's dot
// writer) puts on the wire for msg, without the dot-stuffing and the end
// of data, which the server undoes.
func dotWritten(msg []byte) []byte {
	var wire bytes.Buffer
	bw := bufio.NewWriter(&wire)
	w := textproto.NewWriter(bw).DotWriter()
	w.Write(msg)
	w.Close()
	bw.Flush()
	out := wire.Bytes()
	out = bytes.TrimSuffix(out, []byte(".\r\n"))
	// Undo the stuffing: a line that begins with "." got another one.
	var un []byte
	bol := true
	for i := 0; i < len(out); i++ {
		if bol && out[i] == '.' {
			i++
			if i == len(out) {
				break
			}
		}
		un = append(un, out[i])
		bol = out[i] == '\n'
	}
	return un
}

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
		got := dotWritten(msg)
		i, ok := checkLineEndings(msg)
		if same := bytes.Equal(got, msg); ok != same {
			t.Fatalf("checkLineEndings(%q) = %d, %v; the writer sends %q", msg, i, ok, got)
		}
		if !ok && !bytes.Equal(got[:i], msg[:i]) {
			t.Fatalf("checkLineEndings(%q) = %d, but the writer changes an earlier byte: %q", msg, i, got)
		}
	})
}
