package relay

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// An upstream is where the relay sends; a conn is one session's use of
// it (an SMTP connection kept across transactions, or nothing for an API).
type upstream interface {
	newConn() conn
	// closeIdle ends the connections kept between sessions, at shutdown.
	closeIdle()
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

// smtpUpstream sends to an SMTP server (SES's SMTP interface). It keeps
// up to maxIdle greeted and authenticated connections that sessions have
// finished with, each for at most idleFor, so that a client's next session
// need not dial, greet and authenticate again.
type smtpUpstream struct {
	kind     string
	addr     string
	tls      *tls.Config
	user     string
	password string
	timeout  time.Duration
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)

	idleFor time.Duration // <= 0: none kept
	mu      sync.Mutex
	idle    []idleClient // oldest first
	sweep   *time.Timer  // closes expired connections; nil when idle is empty
	closed  bool
}

// maxIdle bounds the connections kept open with nothing to send.
const maxIdle = 16

// afterFunc arms the sweep of kept connections; a test holds it back.
var afterFunc = time.AfterFunc

type idleClient struct {
	c     *client
	since time.Time
}

// A client is an upstream SMTP connection. data is the connection under
// the client's own buffer (TCP for smtp+plain, TLS for smtps and smtp):
// writeData writes the message to it directly, not byte by byte through
// go-smtp's writer.
type client struct {
	*smtp.Client
	data io.Writer
}

func newSMTPUpstream(kind, addr, user, password string, ca *x509.CertPool, timeout, idleFor time.Duration) *smtpUpstream {
	host, _, _ := net.SplitHostPort(addr)
	d := &net.Dialer{Timeout: 30 * time.Second}
	return &smtpUpstream{
		kind: kind, addr: addr, user: user, password: password, timeout: timeout,
		tls:     &tls.Config{ServerName: host, RootCAs: ca, MinVersion: tls.VersionTLS12},
		dial:    d.DialContext,
		idleFor: idleFor,
	}
}

func (u *smtpUpstream) newConn() conn { return &smtpConn{u: u} }

// take returns the most recently kept connection, or nil.
func (u *smtpUpstream) take() *client {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := len(u.idle)
	if n == 0 {
		return nil
	}
	c := u.idle[n-1].c
	u.idle = u.idle[:n-1]
	return c
}

// put keeps c for a later session, or says QUIT when it may not.
func (u *smtpUpstream) put(c *client) {
	u.mu.Lock()
	if u.closed || u.idleFor <= 0 || len(u.idle) >= maxIdle {
		u.mu.Unlock()
		quit(c)
		return
	}
	u.idle = append(u.idle, idleClient{c, time.Now()})
	if u.sweep == nil {
		u.sweep = afterFunc(u.idleFor, u.expire)
	}
	u.mu.Unlock()
}

// expire says QUIT on the connections kept for idleFor or longer.
func (u *smtpUpstream) expire() {
	u.mu.Lock()
	cut := time.Now().Add(-u.idleFor)
	i := 0
	for i < len(u.idle) && !u.idle[i].since.After(cut) {
		i++
	}
	old := slices.Clone(u.idle[:i])
	u.idle = slices.Delete(u.idle, 0, i)
	if len(u.idle) > 0 && !u.closed {
		u.sweep.Reset(time.Until(u.idle[0].since.Add(u.idleFor)))
	} else {
		u.sweep = nil
	}
	u.mu.Unlock()
	for _, ic := range old {
		quit(ic.c)
	}
}

// closeIdle says QUIT on every kept connection and keeps none from now on.
func (u *smtpUpstream) closeIdle() {
	u.mu.Lock()
	u.closed = true
	old := u.idle
	u.idle = nil
	if u.sweep != nil {
		u.sweep.Stop()
		u.sweep = nil
	}
	u.mu.Unlock()
	for _, ic := range old {
		quit(ic.c)
	}
}

func quit(c *client) {
	c.Quit()
	c.Close()
}

type smtpConn struct {
	u      *smtpUpstream
	c      *client
	rcpts  []string
	open   bool // a transaction is open upstream
	reused bool // c carried a transaction before (this session's or another's)
}

// errUpstreamDown is a network, TLS or credential failure: 451 4.4.1.
type upstreamError struct {
	what string
	err  error
}

func (e *upstreamError) Error() string { return e.what + ": " + e.err.Error() }
func (e *upstreamError) Unwrap() error { return e.err }

// connect makes sure s has a connection: its own, a kept one or, with
// fresh or none kept, a new one.
func (s *smtpConn) connect(ctx context.Context, fresh bool) error {
	if s.c != nil {
		return nil
	}
	u := s.u
	if !fresh {
		if c := u.take(); c != nil {
			s.c, s.reused = c, true
			return nil
		}
	}
	s.reused = false
	raw, err := u.dial(ctx, "tcp", u.addr)
	if err != nil {
		return &upstreamError{"connect", err}
	}
	nc := net.Conn(&batchConn{Conn: raw})
	nc.SetDeadline(time.Now().Add(u.timeout))
	c := &client{}
	switch u.kind {
	case upSMTPS:
		tc := tls.Client(nc, u.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return &upstreamError{"TLS", err}
		}
		c.Client, c.data = smtp.NewClient(tc), tc
	case upSMTP:
		tc, err := startTLS(ctx, nc, u.tls)
		if err != nil {
			nc.Close()
			return err
		}
		c.Client, c.data = smtp.NewClient(&greetedConn{Conn: tc, greeting: afterSTARTTLS}), tc
	default:
		c.Client, c.data = smtp.NewClient(nc), nc
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

// startTLS says EHLO and STARTTLS on nc (an error if the server does not
// offer it) and returns the TLS connection, its handshake done. go-smtp's
// NewClientStartTLS says the commands, keeps the TLS connection it makes
// to itself and starts its handshake only at the client's next command;
// so that client is dropped unused and the TLS connection is made here,
// for client.data and a new client over it (greetedConn).
func startTLS(ctx context.Context, nc net.Conn, cfg *tls.Config) (*tls.Conn, error) {
	if _, err := smtp.NewClientStartTLS(connectDeadline{nc}, cfg); err != nil {
		return nil, classifySMTP("STARTTLS", err)
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, &upstreamError{"TLS", err}
	}
	return tc, nil
}

// A connectDeadline leaves the deadline connect set in place: go-smtp's
// client sets its own around each command and clears it after, and
// NewClientStartTLS runs its commands before CommandTimeout can be set
// (its default is five minutes).
type connectDeadline struct{ net.Conn }

func (connectDeadline) SetDeadline(time.Time) error { return nil }

// A greetedConn gives a go-smtp client made after STARTTLS the greeting it
// reads first, which the server sent before STARTTLS. Nothing is sent.
type greetedConn struct {
	net.Conn
	greeting string // what is left of it to read
}

const afterSTARTTLS = "220 TLS started\r\n"

func (c *greetedConn) Read(p []byte) (int, error) {
	if c.greeting == "" {
		return c.Conn.Read(p)
	}
	n := copy(p, c.greeting)
	c.greeting = c.greeting[n:]
	return n, nil
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

// mail opens the upstream transaction. MAIL is the first command a kept
// connection carries, so when it fails there (a network error, or a 4xx
// that may be the notice of an idle timeout sent before it) nothing is
// open upstream and it is tried once more on a new connection.
func (s *smtpConn) mail(ctx context.Context, from string, opts *smtp.MailOptions) error {
	for attempt := 0; ; attempt++ {
		if err := s.connect(ctx, attempt > 0); err != nil {
			return err
		}
		err := s.c.Mail(from, opts)
		if err == nil {
			s.open = true
			s.rcpts = s.rcpts[:0]
			return nil
		}
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code != 421 && !(s.reused && se.Code < 500) {
			return err
		}
		s.drop()
		if attempt > 0 {
			return classifySMTP("MAIL", err)
		}
	}
}

func (s *smtpConn) rcpt(ctx context.Context, to string) error {
	if err := s.c.Rcpt(to, nil); err != nil {
		if isSMTPError(err) {
			s.dropOn421(err)
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
			if s.dropOn421(err); s.c != nil && s.c.Reset() != nil {
				s.drop()
			}
			return "", err
		}
		s.drop()
		return "", classifySMTP("DATA", err)
	}
	c := s.c
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer func() {
		if !stop() && s.c == c {
			s.drop() // closed by the deadline: not to be kept
		}
	}()
	if err := writeData(c.data, w, msg); err != nil {
		s.drop()
		return "", classifySMTP("DATA", err)
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		if isSMTPError(err) {
			s.dropOn421(err)
			return "", err
		}
		// Whether the upstream has the message is unknown: the client
		// retries (4xx), which may duplicate it; never a 250 we cannot back.
		s.drop()
		return "", classifySMTP("end of DATA", err)
	}
	return messageID(resp.StatusText), nil
}

// writeData writes msg, which checkLineEndings passed, through w, the
// client's dot writer, or when data is set, the same bytes faster: msg
// up to its final CRLF dot-stuffed straight to data, the CRLF through w,
// which leaves w at the start of a line, so that its Close adds only
// ".\r\n". What goes to data comes first on the wire: the client's buffer
// is empty once DATA has had its 354, and w writes nothing before its
// Close. Since every LF in msg ends a CRLF, w's only change would be a dot
// before each line that starts with one.
func writeData(data io.Writer, w io.Writer, msg []byte) error {
	if data == nil || !bytes.HasSuffix(msg, crlf) {
		_, err := w.Write(msg)
		return err
	}
	body := msg[:len(msg)-len(crlf)]
	if bytes.HasPrefix(body, dot) || bytes.Contains(body, lfDot) {
		body = stuffDots(body)
	}
	if _, err := data.Write(body); err != nil {
		return err
	}
	_, err := w.Write(crlf)
	return err
}

var (
	crlf  = []byte("\r\n")
	dot   = []byte(".")
	lfDot = []byte("\n.")
)

// stuffDots returns a copy of p with a dot added before each dot that
// starts p or follows an LF.
func stuffDots(p []byte) []byte {
	out := make([]byte, 0, len(p)+len(p)/64+1)
	if bytes.HasPrefix(p, dot) {
		out = append(out, '.')
	}
	for {
		i := bytes.Index(p, lfDot)
		if i < 0 {
			return append(out, p...)
		}
		out = append(out, p[:i+2]...)
		out = append(out, '.')
		p = p[i+2:]
	}
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

// dropOn421 forgets the connection when the upstream said it closes it.
func (s *smtpConn) dropOn421(err error) {
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code == 421 {
		s.drop()
	}
}

// close ends the session's use of the connection: it is kept for another
// session, ended with QUIT if none may be kept, or closed if it is in a
// state nobody should inherit.
func (s *smtpConn) close() {
	c := s.c
	if c == nil {
		return
	}
	s.c = nil
	if s.open {
		s.open = false
		if err := c.Reset(); err != nil {
			c.Close()
			return
		}
	}
	s.u.put(c)
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
	// The writer's "after CR" state alternates along a run of CRs, so an
	// LF passes unchanged exactly when an odd number of CRs precede it.
	for off := 0; ; {
		i := bytes.IndexByte(msg[off:], '\n')
		if i < 0 {
			return 0, true
		}
		i += off
		j := i
		for j > 0 && msg[j-1] == '\r' {
			j--
		}
		if (i-j)%2 == 0 {
			return i, false
		}
		off = i + 1
	}
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

// maxBatch bounds what a batchConn holds.
const maxBatch = 64 << 10

// A batchConn holds what the SMTP client writes until it next reads: the
// client reads a reply after each command and after a message's data, so
// a message of up to maxBatch bytes leaves in one write instead of one per
// 4 KiB of the client's buffer. A write error is returned by that write
// or by the read that follows. Close does not touch the buffer: it may
// come from another goroutine to end a stuck write.
type batchConn struct {
	net.Conn
	buf []byte
	err error
}

func (c *batchConn) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if len(c.buf)+len(p) > maxBatch {
		if err := c.flush(); err != nil {
			return 0, err
		}
		if len(p) >= maxBatch {
			n, err := c.Conn.Write(p)
			c.err = err
			return n, err
		}
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

func (c *batchConn) Read(p []byte) (int, error) {
	if err := c.flush(); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *batchConn) flush() error {
	if c.err != nil || len(c.buf) == 0 {
		return c.err
	}
	_, c.err = c.Conn.Write(c.buf)
	c.buf = c.buf[:0]
	return c.err
}
