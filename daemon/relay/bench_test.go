package relay

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"net"
	"strings"
	"testing"
)

// BenchmarkRelaySMTP sends 10 KB messages, one client session each, through
// the relay (smtp+plain) into the fake SMTP server, as bench/relay.sh does
// with smtp-source; the client speaks SMTP by hand so that its own cost is
// small. -memprofile shows what the relay allocates per message.
func BenchmarkRelaySMTP(b *testing.B) {
	up := fakeSMTP(b)
	up.Plain = true
	up.Keep = func(data []byte) []byte { s := sha256.Sum256(data); return s[:] }
	r, _ := startRelay(b, &Config{
		Listeners: []Listener{{Addr: "127.0.0.1:0"}},
		Upstream:  "smtp+plain://" + up.Addr,
		ConfigSet: "bench",
		Tags:      []string{"run=bench"},
	})
	benchSessions(b, r.Addrs()[0])
	if n := len(up.Messages()); n < b.N {
		b.Errorf("%d delivered, want %d", n, b.N)
	}
}

// BenchmarkRelaySES is BenchmarkRelaySMTP through ses+v2 into the fake
// SES API.
func BenchmarkRelaySES(b *testing.B) {
	api := fakeAPI(b)
	cfg := apiConfig(api, "ses+v2")
	cfg.ConfigSet, cfg.Rate = "bench", 1e6
	r, _ := startRelay(b, cfg)
	benchSessions(b, r.Addrs()[0])
	if n := len(api.Requests()); n < b.N {
		b.Errorf("%d delivered, want %d", n, b.N)
	}
}

// benchSessions sends b.N 10 KB messages to addr, one session each.
func benchSessions(b *testing.B, addr string) {
	body := strings.Repeat(strings.Repeat("x", 78)+"\r\n", 128)
	msg := "From: <a@example.com>\r\nTo: <b@example.org>\r\nSubject: bench\r\n\r\n" + body + ".\r\n"
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := rawSend(addr, msg); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
}

// rawSend delivers data (dot-terminated) in one session.
func rawSend(addr, data string) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	br := bufio.NewReader(c)
	expect := func(code string) error {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return err
			}
			if !strings.HasPrefix(line, code) {
				return fmt.Errorf("reply %q, want %s", line, code)
			}
			if len(line) < 4 || line[3] != '-' {
				return nil
			}
		}
	}
	steps := []struct{ send, want string }{
		{"", "220"}, {"HELO bench\r\n", "250"}, {"MAIL FROM:<a@example.com>\r\n", "250"},
		{"RCPT TO:<b@example.org>\r\n", "250"}, {"DATA\r\n", "354"}, {data, "250"}, {"QUIT\r\n", "221"},
	}
	for _, s := range steps {
		if s.send != "" {
			if _, err := c.Write([]byte(s.send)); err != nil {
				return err
			}
		}
		if err := expect(s.want); err != nil {
			return err
		}
	}
	return nil
}
