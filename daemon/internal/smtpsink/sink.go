package smtpsink

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// A Message is one message the sink accepted.
type Message struct {
	Helo string   // the client's EHLO/HELO name
	From string   // MAIL FROM address, without brackets
	To   []string // RCPT TO addresses in the order given
	Data []byte   // the message bytes exactly as received
}

// Options configures a Sink. The zero value accepts every message.
type Options struct {
	// Rcpt, when set, is called for each RCPT TO; a non-nil error is the
	// reply (an *smtp.SMTPError sets the code) and the recipient is refused.
	Rcpt func(to string) error
	// Data, when set, is called for each complete message before it is
	// recorded; a non-nil error is the reply and the message is not recorded.
	Data func(m *Message) error
	// MaxMessageBytes bounds a message; 0 means 64 MiB.
	MaxMessageBytes int64
	// Debug, when set, receives the SMTP dialogue.
	Debug io.Writer
}

// A Sink is a running recording SMTP server.
type Sink struct {
	Addr string // host:port it listens on (127.0.0.1)

	opts   Options
	srv    *smtp.Server
	served chan struct{}

	mu      sync.Mutex
	msgs    []Message
	arrived chan struct{} // closed and replaced whenever a message is recorded
}

// Start starts a sink on a free loopback port and stops it when the test
// ends. opts may be nil.
func Start(t testing.TB, opts *Options) *Sink {
	t.Helper()
	s, err := Listen("127.0.0.1:0", opts)
	if err != nil {
		t.Fatalf("smtpsink: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Listen starts a sink on addr ("127.0.0.1:0" for a free port); the caller
// must Close it. opts may be nil.
func Listen(addr string, opts *Options) (*Sink, error) {
	s := &Sink{served: make(chan struct{}), arrived: make(chan struct{})}
	if opts != nil {
		s.opts = *opts
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.Addr = l.Addr().String()
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, c: c}, nil
	}))
	srv.Domain = "sink.test"
	srv.MaxMessageBytes = s.opts.MaxMessageBytes
	if srv.MaxMessageBytes == 0 {
		srv.MaxMessageBytes = 64 << 20
	}
	srv.MaxLineLength = 1 << 20
	srv.MaxRecipients = 10000
	srv.EnableSMTPUTF8 = true
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if s.opts.Debug != nil {
		srv.Debug = s.opts.Debug
	}
	s.srv = srv
	go func() {
		defer close(s.served)
		srv.Serve(l)
	}()
	return s, nil
}

// Close stops the sink and closes open connections.
func (s *Sink) Close() error {
	err := s.srv.Close()
	<-s.served
	if errors.Is(err, smtp.ErrServerClosed) {
		err = nil
	}
	return err
}

// Messages returns a copy of the list of messages recorded so far, in the
// order their DATA completed.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Len reports how many messages have been recorded.
func (s *Sink) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// Reset forgets the messages recorded so far.
func (s *Sink) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = nil
}

// Wait blocks until at least n messages have been recorded or ctx is done,
// and returns the messages recorded so far (with ctx's error when fewer
// than n arrived).
func (s *Sink) Wait(ctx context.Context, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			m := append([]Message(nil), s.msgs...)
			s.mu.Unlock()
			return m, nil
		}
		ch := s.arrived
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return s.Messages(), ctx.Err()
		}
	}
}

func (s *Sink) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

type session struct {
	s    *Sink
	c    *smtp.Conn
	from string
	to   []string
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from, ss.to = from, nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if f := ss.s.opts.Rcpt; f != nil {
		if err := f(to); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := b.ReadFrom(r); err != nil {
		return err
	}
	m := Message{Helo: ss.c.Hostname(), From: ss.from, To: append([]string(nil), ss.to...), Data: b.Bytes()}
	if f := ss.s.opts.Data; f != nil {
		if err := f(&m); err != nil {
			return err
		}
	}
	ss.s.record(m)
	return nil
}

// Send delivers msg to the SMTP server at addr over plain SMTP (no TLS, no
// AUTH): EHLO client.test, MAIL, one RCPT per recipient, DATA. The go-smtp
// client turns bare LF into CRLF and ends the data with CRLF. A refusal is
// returned as the *smtp.SMTPError the server sent.
func Send(addr, from string, to []string, msg []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
