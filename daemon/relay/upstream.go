package relay

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// An upstream is where the relay sends; a conn is one session's use of
// it (an SMTP connection kept across transactions, or nothing for an API).
type upstream interface {
	newConn() conn
}

type conn interface {
	// mail starts a transaction; rcpt adds a recipient. An SMTP upstream
	// forwards both at once, so their replies reach the client.
	mail(ctx context.Context, from string, opts *smtp.MailOptions) error
	rcpt(ctx context.Context, to string) error
	// send delivers msg (already rewritten) to the transaction's
	// recipients and returns the upstream's message ID.
	send(ctx context.Context, msg []byte, o sendOptions) (string, error)
	// reset ends a transaction that will not be sent.
	reset()
	close()
}

// sendOptions carry what the API upstreams put into parameters.
type sendOptions struct {
	from  string
	rcpts []string
}

// smtpUpstream sends to an SMTP server (SES's SMTP interface).
type smtpUpstream struct {
	kind     string
	addr     string
	tls      *tls.Config
	user     string
	password string
	timeout  time.Duration
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
}

func newSMTPUpstream(kind, addr, user, password string, ca *x509.CertPool, timeout time.Duration) *smtpUpstream {
	host, _, _ := net.SplitHostPort(addr)
	d := &net.Dialer{Timeout: 30 * time.Second}
	return &smtpUpstream{
		kind: kind, addr: addr, user: user, password: password, timeout: timeout,
		tls:  &tls.Config{ServerName: host, RootCAs: ca, MinVersion: tls.VersionTLS12},
		dial: d.DialContext,
	}
}

func (u *smtpUpstream) newConn() conn { return &smtpConn{u: u} }

type smtpConn struct {
	u     *smtpUpstream
	c     *smtp.Client
	rcpts []string
	open  bool // a transaction is open upstream
}

// errUpstreamDown is a network, TLS or credential failure: 451 4.4.1.
type upstreamError struct {
	what string
	err  error
}

func (e *upstreamError) Error() string { return e.what + ": " + e.err.Error() }
func (e *upstreamError) Unwrap() error { return e.err }

func (s *smtpConn) connect(ctx context.Context) error {
	if s.c != nil {
		return nil
	}
	u := s.u
	nc, err := u.dial(ctx, "tcp", u.addr)
	if err != nil {
		return &upstreamError{"connect", err}
	}
	nc.SetDeadline(time.Now().Add(u.timeout))
	var c *smtp.Client
	switch u.kind {
	case upSMTPS:
		tc := tls.Client(nc, u.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return &upstreamError{"TLS", err}
		}
		c = smtp.NewClient(tc)
	case upSMTP:
		c, err = smtp.NewClientStartTLS(nc, u.tls)
		if err != nil {
			nc.Close()
			return classifySMTP("STARTTLS", err)
		}
	default:
		c = smtp.NewClient(nc)
	}
	c.CommandTimeout = u.timeout
	c.SubmissionTimeout = u.timeout
	if err := c.Hello(localName()); err != nil {
		c.Close()
		return classifySMTP("EHLO", err)
	}
	if u.user != "" {
		if err := c.Auth(sasl.NewPlainClient("", u.user, u.password)); err != nil {
			c.Close()
			return classifySMTP("AUTH", err)
		}
	} else if u.kind != upSMTPPlain {
		c.Close()
		return &upstreamError{"AUTH", errors.New("no upstream credentials (upstream_user, upstream_password)")}
	}
	nc.SetDeadline(time.Time{})
	s.c = c
	return nil
}

func localName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

// drop forgets a connection that failed; the next transaction dials again.
func (s *smtpConn) drop() {
	if s.c != nil {
		s.c.Close()
		s.c = nil
	}
	s.open = false
}

func (s *smtpConn) mail(ctx context.Context, from string, opts *smtp.MailOptions) error {
	for attempt := 0; ; attempt++ {
		if err := s.connect(ctx); err != nil {
			return err
		}
		err := s.c.Mail(from, opts)
		if err == nil {
			s.open = true
			s.rcpts = s.rcpts[:0]
			return nil
		}
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code != 421 {
			return err
		}
		// A kept connection may have timed out upstream: dial once more.
		s.drop()
		if attempt > 0 {
			return classifySMTP("MAIL", err)
		}
	}
}

func (s *smtpConn) rcpt(ctx context.Context, to string) error {
	if err := s.c.Rcpt(to, nil); err != nil {
		if isSMTPError(err) {
			return err
		}
		s.drop()
		return classifySMTP("RCPT", err)
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *smtpConn) send(ctx context.Context, msg []byte, _ sendOptions) (string, error) {
	if !s.open {
		return "", &upstreamError{"DATA", errors.New("no open transaction")}
	}
	s.open = false
	w, err := s.c.Data()
	if err != nil {
		if isSMTPError(err) {
			s.c.Reset()
			return "", err
		}
		s.drop()
		return "", classifySMTP("DATA", err)
	}
	c := s.c
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if _, err := w.Write(msg); err != nil {
		s.drop()
		return "", classifySMTP("DATA", err)
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		if isSMTPError(err) {
			return "", err
		}
		// Whether the upstream has the message is unknown: the client
		// retries (4xx), which may duplicate it; never a 250 we cannot back.
		s.drop()
		return "", classifySMTP("end of DATA", err)
	}
	return messageID(resp.StatusText), nil
}

// messageID takes SES's "Ok <id>" (or any text) apart.
func messageID(text string) string {
	t := strings.TrimSpace(text)
	if i := strings.LastIndexByte(t, ' '); i >= 0 {
		t = t[i+1:]
	}
	return strings.Trim(t, "<>")
}

func (s *smtpConn) reset() {
	if s.c != nil && s.open {
		if err := s.c.Reset(); err != nil {
			s.drop()
		}
	}
	s.open = false
}

func (s *smtpConn) close() {
	if s.c != nil {
		s.c.Quit()
		s.c.Close()
		s.c = nil
	}
}

func isSMTPError(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se)
}

// classifySMTP passes an upstream SMTP reply through and turns anything
// else (network, TLS, timeout) into an upstreamError.
func classifySMTP(what string, err error) error {
	if isSMTPError(err) {
		return err
	}
	return &upstreamError{what, err}
}

// checkLineEndings reports whether the go-smtp client's DATA writer (a
// net/textproto dot writer) sends msg byte for byte, and if not the offset
// of the first byte it would change. It adds a CR before every LF that does
// not directly follow a CR that began a line ending: a bare LF becomes CRLF
// and CR CR LF becomes CR CR CR LF. A bare CR before another byte passes.
func checkLineEndings(msg []byte) (int, bool) {
	cr := false // the writer's "after CR" state
	for i, c := range msg {
		switch {
		case cr:
			cr = false
		case c == '\r':
			cr = true
		case c == '\n':
			return i, false
		}
	}
	return 0, true
}

// normalizeLineEndings turns every bare LF into CRLF and every run of CRs
// before an LF into one CR; other bytes, bare CRs included, stay.
func normalizeLineEndings(msg []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(msg) + len(msg)/50)
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '\r' {
			j := i
			for j < len(msg) && msg[j] == '\r' {
				j++
			}
			if j < len(msg) && msg[j] == '\n' {
				b.WriteString("\r\n")
				i = j
				continue
			}
			b.Write(msg[i:j])
			i = j - 1
			continue
		}
		if c == '\n' {
			b.WriteString("\r\n")
			continue
		}
		b.WriteByte(c)
	}
	return b.Bytes()
}
