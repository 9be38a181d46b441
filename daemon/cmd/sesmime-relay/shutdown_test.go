package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sesmime/sesmime/daemon/internal/fakesmtp"
)

// TestSIGTERMInFlight runs the built command with messages in flight when
// SIGTERM arrives: the client gets 250 only when the upstream accepted the
// message, a 4xx otherwise (or, while it is still sending, a closed
// connection, which SMTP clients retry); nothing is delivered twice, and the
// process exits once its shutdown deadline has passed even while the
// upstream still holds the message.
func TestSIGTERMInFlight(t *testing.T) {
	bin := buildRelay(t)
	const msg = "Subject: in flight\r\n\r\nbody\r\n"
	type upstream struct {
		*fakesmtp.Server
		started, release chan struct{}
		accept           atomic.Bool // what the upstream answers once released
	}
	newUpstream := func(t *testing.T, holdData bool) *upstream {
		s := plainUpstream(t)
		u := &upstream{Server: s, started: make(chan struct{}), release: make(chan struct{})}
		var once atomic.Bool
		s.Respond = func(st fakesmtp.Stage, n int, arg string) *smtp.SMTPError {
			if st != fakesmtp.Data || !holdData {
				return nil
			}
			if once.CompareAndSwap(false, true) {
				close(u.started)
			}
			<-u.release
			if u.accept.Load() {
				return nil
			}
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "too late"}
		}
		return u
	}
	start := func(t *testing.T, up *upstream, shutdown string) *relayProc {
		conf := filepath.Join(t.TempDir(), "relay.toml")
		os.WriteFile(conf, []byte("shutdown_timeout = \""+shutdown+"\"\nconfig_set = \"drain\"\n"), 0o644)
		return startRelayProc(t, bin, "--config", conf, "--listen", "127.0.0.1:0", "--upstream", "smtp+plain://"+up.Addr)
	}

	t.Run("upstream accepts before the deadline", func(t *testing.T) {
		up := newUpstream(t, true)
		p := start(t, up, "30s")
		done := make(chan error, 1)
		go func() { done <- sendMail(p.addr, msg) }()
		<-up.started
		p.signal(syscall.SIGTERM)
		p.next("shutdown")
		if err := sendMail(p.addr, msg); err == nil {
			t.Error("a new message was accepted while draining")
		}
		up.accept.Store(true)
		close(up.release)
		if err := <-done; err != nil {
			t.Errorf("message in flight: %v, want 250 (the upstream accepted it)", err)
		}
		p.wait()
		if n := len(up.Messages()); n != 1 {
			t.Errorf("%d messages upstream, want 1", n)
		}
	})

	t.Run("upstream slower than the deadline", func(t *testing.T) {
		up := newUpstream(t, true)
		defer close(up.release) // only after the process is gone
		p := start(t, up, "5s") // the upstream call is cancelled 0.5 s before
		done := make(chan error, 1)
		go func() { done <- sendMail(p.addr, msg) }()
		<-up.started
		t0 := time.Now()
		p.signal(syscall.SIGTERM)
		p.wait() // returns while the upstream still holds the message
		t.Logf("exited %v after SIGTERM (shutdown_timeout 5s)", time.Since(t0).Round(time.Millisecond))
		err := <-done
		// The upstream call is cancelled shortly before the deadline, so
		// the reply reaches the client before its connection closes.
		if se := (*smtp.SMTPError)(nil); !errors.As(err, &se) || se.Code < 400 || se.Code >= 500 {
			t.Errorf("reply %v, want 4xx", err)
		}
		t.Logf("client: %v", err)
		if n := len(up.Messages()); n != 0 {
			t.Errorf("%d messages upstream, want 0", n)
		}
	})

	for _, stall := range []bool{false, true} {
		name := "client finishes DATA before the deadline"
		if stall {
			name = "client stalls in DATA past the deadline"
		}
		t.Run(name, func(t *testing.T) {
			up := newUpstream(t, false)
			p := start(t, up, map[bool]string{false: "30s", true: "1s"}[stall])
			c := dialData(t, p.addr)
			c.W.WriteString("Subject: half\r\n\r\npart of a body")
			c.W.Flush()
			p.signal(syscall.SIGTERM)
			p.next("shutdown")
			if stall {
				p.wait()
				c.W.WriteString(" and the rest\r\n.\r\n")
				c.W.Flush()
				code, text, err := c.ReadResponse(250)
				if err == nil {
					t.Errorf("250 %s for a message the relay did not send", text)
				} else if code >= 500 {
					t.Errorf("reply %d %s, want 4xx or a closed connection", code, text)
				}
				t.Logf("client: %d %q %v", code, text, err)
				if n := len(up.Messages()); n != 0 {
					t.Errorf("%d messages upstream, want 0", n)
				}
				return
			}
			c.W.WriteString(" and the rest\r\n.\r\n")
			c.W.Flush()
			if _, text, err := c.ReadResponse(250); err != nil {
				t.Errorf("DATA in progress at SIGTERM: %v, want 250", err)
			} else if m := up.Messages(); len(m) != 1 || !strings.Contains(text, m[0].ID) {
				t.Errorf("250 %s, upstream has %d messages", text, len(m))
			}
			p.wait()
			if n := len(up.Messages()); n != 1 {
				t.Errorf("%d messages upstream, want 1", n)
			}
		})
	}
}

// plainUpstream starts a fake SES SMTP endpoint for smtp+plain://.
func plainUpstream(t *testing.T) *fakesmtp.Server {
	t.Helper()
	c, err := fakesmtp.NewCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := fakesmtp.New(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.Plain = true
	return s
}

func sendMail(addr, msg string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.SendMail("a@example.com", []string{"b@example.org"}, strings.NewReader(msg))
}

// dialData opens an SMTP session by hand and goes as far as DATA's 354.
func dialData(t *testing.T, addr string) *textproto.Conn {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	c := textproto.NewConn(nc)
	t.Cleanup(func() { c.Close() })
	steps := []struct {
		cmd  string
		code int
	}{{"", 220}, {"EHLO test", 250}, {"MAIL FROM:<a@example.com>", 250}, {"RCPT TO:<b@example.org>", 250}, {"DATA", 354}}
	for _, s := range steps {
		if s.cmd != "" {
			c.PrintfLine("%s", s.cmd)
		}
		if _, text, err := c.ReadResponse(s.code); err != nil {
			t.Fatalf("%q: %v %s", s.cmd, err, text)
		}
	}
	return c
}

// TestSIGTERMIdle: on SIGTERM a client that is not in a transaction (idle
// after the greeting, after a finished message, or after STARTTLS and
// EHLO) gets 421 4.3.2 and a closed connection at once, while a message in
// flight on another connection still holds the drain open; that message
// then gets its 250 and the same 421. Before, an idle client was kept
// until the deadline. After STARTTLS but before EHLO the relay has no hold
// on the TLS connection and only closes it (no plain text inside TLS).
func TestSIGTERMIdle(t *testing.T) {
	bin := buildRelay(t)
	const drain = 60 * time.Second // never reached: the in-flight message is released first
	cert, err := fakesmtp.NewCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reply := func(t *testing.T, c *textproto.Conn, code int, what string) {
		t.Helper()
		if _, text, err := c.ReadResponse(code); err != nil {
			t.Fatalf("%s: %v %s", what, err, text)
		}
	}
	cmd := func(t *testing.T, c *textproto.Conn, line string, code int) {
		t.Helper()
		c.PrintfLine("%s", line)
		reply(t, c, code, line)
	}
	for _, tc := range []struct {
		name      string
		tls       bool
		closeOnly bool // EOF without the 421
		// idle takes a connection that has read the greeting to the
		// idle state the case is about.
		idle func(t *testing.T, c *textproto.Conn, nc net.Conn) *textproto.Conn
	}{
		{name: "after the greeting", idle: func(t *testing.T, c *textproto.Conn, _ net.Conn) *textproto.Conn { return c }},
		{name: "between transactions", idle: func(t *testing.T, c *textproto.Conn, _ net.Conn) *textproto.Conn {
			cmd(t, c, "EHLO test", 250)
			cmd(t, c, "MAIL FROM:<a@example.com>", 250)
			cmd(t, c, "RCPT TO:<b@example.org>", 250)
			cmd(t, c, "DATA", 354)
			c.W.WriteString("Subject: first\r\n\r\nbody\r\n.\r\n")
			c.W.Flush()
			reply(t, c, 250, "end of data")
			return c
		}},
		{name: "after STARTTLS and EHLO", tls: true, idle: func(t *testing.T, c *textproto.Conn, nc net.Conn) *textproto.Conn {
			c = startTLS(t, c, nc, cert)
			cmd(t, c, "EHLO test", 250)
			return c
		}},
		{name: "after STARTTLS before EHLO", tls: true, closeOnly: true, idle: func(t *testing.T, c *textproto.Conn, nc net.Conn) *textproto.Conn {
			return startTLS(t, c, nc, cert)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := plainUpstream(t)
			var hold atomic.Bool
			started, release := make(chan struct{}), make(chan struct{})
			up.Respond = func(st fakesmtp.Stage, n int, arg string) *smtp.SMTPError {
				if st == fakesmtp.Data && hold.Load() {
					close(started)
					<-release
				}
				return nil
			}
			conf := filepath.Join(t.TempDir(), "relay.toml")
			os.WriteFile(conf, []byte(fmt.Sprintf("shutdown_timeout = %q\n", drain)), 0o644)
			args := []string{"--config", conf, "--listen", "127.0.0.1:0", "--upstream", "smtp+plain://" + up.Addr}
			if tc.tls {
				args = append(args, "--tls-cert", cert.CertFile, "--tls-key", cert.KeyFile)
			}
			p := startRelayProc(t, bin, args...)

			nc, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(drain / 2)) // a client kept until the deadline fails
			c := textproto.NewConn(nc)
			reply(t, c, 220, "greeting")
			c = tc.idle(t, c, nc)

			// A message in flight keeps the drain going until released.
			hold.Store(true)
			f := dialData(t, p.addr)
			f.W.WriteString("Subject: in flight\r\n\r\nbody\r\n.\r\n")
			f.W.Flush()
			<-started

			p.signal(syscall.SIGTERM)
			p.next("shutdown")
			if !tc.closeOnly {
				code, text, err := c.ReadResponse(421)
				if err != nil || !strings.HasPrefix(text, "4.3.2 ") || !strings.Contains(strings.ToLower(text), "shutting down") {
					t.Errorf("idle client got %d %q (%v), want 421 4.3.2 ... shutting down", code, text, err)
				}
			}
			if l, err := c.ReadLine(); err != io.EOF {
				t.Errorf("then: %q %v, want EOF", l, err)
			}

			// The upstream still holds the message in flight: it gets its
			// 250, then, its transaction over, the same 421 and EOF.
			close(release)
			if _, text, err := f.ReadResponse(250); err != nil {
				t.Errorf("message in flight: %v %s, want 250 (the upstream accepted it)", err, text)
			}
			if code, text, err := f.ReadResponse(421); err != nil || !strings.HasPrefix(text, "4.3.2 ") {
				t.Errorf("after its 250: %d %q (%v), want 421 4.3.2", code, text, err)
			}
			if l, err := f.ReadLine(); err != io.EOF {
				t.Errorf("then: %q %v, want EOF", l, err)
			}
			p.wait()
			want := 1
			if tc.name == "between transactions" {
				want = 2
			}
			if n := len(up.Messages()); n != want {
				t.Errorf("%d messages upstream, want %d", n, want)
			}
		})
	}
}

// startTLS sends EHLO and STARTTLS on c and returns the session over TLS.
func startTLS(t *testing.T, c *textproto.Conn, nc net.Conn, cert *fakesmtp.Cert) *textproto.Conn {
	t.Helper()
	for _, s := range []struct {
		cmd  string
		code int
	}{{"EHLO test", 250}, {"STARTTLS", 220}} {
		c.PrintfLine("%s", s.cmd)
		if _, text, err := c.ReadResponse(s.code); err != nil {
			t.Fatalf("%q: %v %s", s.cmd, err, text)
		}
	}
	tc := tls.Client(nc, cert.ClientTLS())
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	return textproto.NewConn(tc)
}
