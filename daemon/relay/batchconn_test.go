package relay

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"
)

// writesConn records each Write it gets and fails them with err.
type writesConn struct {
	net.Conn
	writes []string
	err    error
}

func (c *writesConn) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	c.writes = append(c.writes, string(p))
	return len(p), nil
}

func (c *writesConn) Read(p []byte) (int, error) { return copy(p, "250 Ok\r\n"), nil }

func TestBatchConn(t *testing.T) {
	t.Run("held until the next read", func(t *testing.T) {
		w := &writesConn{}
		c := &batchConn{Conn: w}
		for _, s := range []string{"DATA", "\r\n"} {
			c.Write([]byte(s))
		}
		if len(w.writes) != 0 {
			t.Fatalf("written before a read: %q", w.writes)
		}
		c.Read(make([]byte, 64))
		body := strings.Repeat("x", 4096)
		for range 3 {
			c.Write([]byte(body))
		}
		c.Read(make([]byte, 64))
		want := []string{"DATA\r\n", body + body + body}
		if len(w.writes) != 2 || w.writes[0] != want[0] || w.writes[1] != want[1] {
			t.Errorf("%d writes, want the command and the data in one each", len(w.writes))
		}
	})
	t.Run("at most maxBatch held", func(t *testing.T) {
		w := &writesConn{}
		c := &batchConn{Conn: w}
		chunk := bytes.Repeat([]byte("y"), 4096)
		total := 0
		for range 40 { // 160 KiB
			c.Write(chunk)
			total += len(chunk)
			if len(c.buf) > maxBatch {
				t.Fatalf("%d bytes held", len(c.buf))
			}
		}
		c.Read(make([]byte, 64))
		n := 0
		for _, s := range w.writes {
			n += len(s)
		}
		if n != total {
			t.Errorf("%d bytes written, want %d", n, total)
		}
	})
	t.Run("a write error reaches the read", func(t *testing.T) {
		boom := errors.New("connection reset")
		c := &batchConn{Conn: &writesConn{err: boom}}
		if _, err := c.Write([]byte("RCPT TO:<b@example.org>\r\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(make([]byte, 64)); !errors.Is(err, boom) {
			t.Errorf("read: %v, want the write's error", err)
		}
		if _, err := c.Write([]byte("x")); !errors.Is(err, boom) {
			t.Errorf("later write: %v, want the write's error", err)
		}
	})
}
