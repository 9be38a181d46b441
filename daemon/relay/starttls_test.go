package relay

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sesmime/sesmime/daemon/internal/fakesmtp"
)

// starttlsUpstream is an smtp:// upstream to up, trusting the test
// certificate.
func starttlsUpstream(t *testing.T, up *fakesmtp.Server, idleFor time.Duration) *smtpUpstream {
	return newSMTPUpstream(upSMTP, up.Addr, up.User, up.Password, cert(t).ClientTLS().RootCAs, time.Minute, idleFor)
}

// countingWriter counts what is written through it.
type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

// TestSTARTTLSFastPath: after STARTTLS the client's data is the TLS
// connection, its certificate verified, and send writes the
// message through it (not through go-smtp's dot writer); the upstream
// gets it byte for byte over TLS, on a new connection and on a kept one.
func TestSTARTTLSFastPath(t *testing.T) {
	up := fakeSMTP(t)
	u := starttlsUpstream(t, up, time.Minute)
	t.Cleanup(u.closeIdle)
	// Over 4 KiB (go-smtp's buffer), with lines that start with a dot.
	body := ".first\r\n" + strings.Repeat("line of text\r\n..dots\r\n", 400) + ".\r\n.last\r\n"
	msg := "Subject: fast\r\n\r\n" + body
	ctx := context.Background()
	for i, want := range []struct{ reused bool }{{false}, {true}} {
		s := u.newConn().(*smtpConn)
		if err := s.mail(ctx, "a@example.com", nil); err != nil {
			t.Fatal(err)
		}
		if s.reused != want.reused {
			t.Fatalf("message %d: reused %v, want %v", i, s.reused, want.reused)
		}
		tc, ok := s.c.data.(*tls.Conn)
		if !ok {
			t.Fatalf("message %d: client data is %T, want the *tls.Conn (writeData's fast path)", i, s.c.data)
		}
		if st := tc.ConnectionState(); !st.HandshakeComplete || len(st.VerifiedChains) == 0 {
			t.Fatalf("message %d: TLS handshake done %v, %d verified chains", i, st.HandshakeComplete, len(st.VerifiedChains))
		}
		cw := &countingWriter{w: s.c.data}
		s.c.data = cw
		if err := s.rcpt(ctx, "b@example.org"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.send(ctx, []byte(msg), sendOptions{}); err != nil {
			t.Fatal(err)
		}
		// All but the final CRLF, dot-stuffed: one dot more per line
		// that starts with one.
		if want := len(msg) - 2 + strings.Count("\n"+msg, "\n."); cw.n != want {
			t.Errorf("message %d: %d bytes written to the TLS connection directly, want %d", i, cw.n, want)
		}
		s.c.data = tc
		s.close()
	}
	msgs := up.Messages()
	if len(msgs) != 2 {
		t.Fatalf("upstream got %d messages, want 2", len(msgs))
	}
	for i, m := range msgs {
		if string(m.Data) != msg || !m.TLS || m.User != up.User {
			t.Errorf("message %d: TLS %v, user %q, data equal %v: want TLS, %q and the message byte for byte", i, m.TLS, m.User, string(m.Data) == msg, up.User)
		}
	}
	if accepted, _ := up.Connections(); accepted != 1 {
		t.Errorf("%d connections upstream, want 1 (the second message on the kept one)", accepted)
	}
}

// TestSTARTTLSRefused: smtp:// sends nothing without STARTTLS and a
// certificate that verifies for the upstream's name, and says why.
func TestSTARTTLSRefused(t *testing.T) {
	other, err := fakesmtp.NewCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		reply map[string]string // scripted server: command -> reply; nil: fakesmtp
		addr  string            // the name connected to, "": the server's address
		ca    *x509.CertPool
		check func(error) bool
	}{
		{name: "STARTTLS not offered", reply: map[string]string{"EHLO": "250-fake\r\n250 AUTH PLAIN"}, check: func(err error) bool {
			var ue *upstreamError
			return errors.As(err, &ue) && strings.Contains(err.Error(), "STARTTLS")
		}},
		{name: "STARTTLS refused", reply: map[string]string{"EHLO": "250-fake\r\n250 STARTTLS", "STARTTLS": "454 4.7.0 TLS not available"}, check: func(err error) bool {
			var se *smtp.SMTPError
			return errors.As(err, &se) && se.Code == 454 // passed through, as any reply
		}},
		{name: "untrusted certificate", ca: other.ClientTLS().RootCAs, check: func(err error) bool {
			var ue x509.UnknownAuthorityError
			return errors.As(err, &ue)
		}},
		{name: "system roots", check: func(err error) bool {
			var ue x509.UnknownAuthorityError
			return errors.As(err, &ue)
		}},
		{name: "certificate for another name", addr: "mail.example.com", ca: cert(t).ClientTLS().RootCAs, check: func(err error) bool {
			var he x509.HostnameError
			return errors.As(err, &he)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var addr string
			var commands func() []string
			if tc.reply != nil {
				addr, commands = scriptedServer(t, tc.reply)
			} else {
				up := fakeSMTP(t)
				addr = up.Addr
				commands = func() []string { return nil }
				t.Cleanup(func() {
					if n := len(up.Messages()); n != 0 {
						t.Errorf("upstream got %d messages", n)
					}
				})
			}
			name := addr
			if tc.addr != "" {
				_, port, _ := net.SplitHostPort(addr)
				name = net.JoinHostPort(tc.addr, port)
			}
			u := newSMTPUpstream(upSMTP, name, "user", "secret", tc.ca, time.Minute, 0)
			var d net.Dialer
			u.dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			}
			s := u.newConn().(*smtpConn)
			err := s.mail(context.Background(), "a@example.com", nil)
			if err == nil || !tc.check(err) {
				t.Fatalf("MAIL: %v (%T)", err, err)
			}
			if s.c != nil {
				t.Error("a connection is kept")
			}
			for _, c := range commands() {
				if c != "EHLO" && c != "STARTTLS" {
					t.Errorf("the server got %s", c)
				}
			}
		})
	}
}

// scriptedServer answers each connection with a greeting and each command
// with reply[its verb] (or 502), and reports the verbs it got.
func scriptedServer(t *testing.T, reply map[string]string) (string, func() []string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var mu sync.Mutex
	var got []string
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.WriteString(c, "220 scripted\r\n")
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
					verb = strings.ToUpper(verb)
					mu.Lock()
					got = append(got, verb)
					mu.Unlock()
					r, ok := reply[verb]
					if !ok {
						r = "502 5.5.1 not here"
					}
					io.WriteString(c, r+"\r\n")
					if verb == "QUIT" {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// deadlineConn records the deadlines set on a connection.
type deadlineConn struct {
	net.Conn
	mu  *sync.Mutex
	set *[]time.Time
}

func (c deadlineConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	*c.set = append(*c.set, t)
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

// TestSTARTTLSDeadline: from the dial to the end of AUTH, no deadline
// on the upstream connection is later than upstream_timeout from the
// start (go-smtp's STARTTLS, left alone, gives each command five minutes),
// and none is left once connected.
func TestSTARTTLSDeadline(t *testing.T) {
	up := fakeSMTP(t)
	u := starttlsUpstream(t, up, 0)
	var mu sync.Mutex
	var set []time.Time
	var d net.Dialer
	u.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		return deadlineConn{c, &mu, &set}, err
	}
	start := time.Now()
	s := u.newConn().(*smtpConn)
	if err := s.connect(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	defer s.close()
	mu.Lock()
	defer mu.Unlock()
	if len(set) == 0 || !set[len(set)-1].IsZero() {
		t.Fatalf("deadlines %v: want the last one cleared", set)
	}
	for _, d := range set {
		if d.After(start.Add(u.timeout + 10*time.Second)) {
			t.Errorf("a deadline %v after the start, upstream_timeout is %v", d.Sub(start).Round(time.Second), u.timeout)
		}
	}
}
