// Package fakesmtp is a stand-in for the SES SMTP interface, for tests: a
// go-smtp server on loopback with a self-signed certificate, STARTTLS
// required before AUTH and MAIL (unless Plain), AUTH PLAIN with one user,
// scripted replies (421, 451, 454, 554, ...) per command, a slow or
// vanishing server on demand, and a record of the exact bytes of every
// message it accepted.
package fakesmtp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// A Message is one message the server accepted (250 sent).
type Message struct {
	From  string
	Rcpts []string
	Data  []byte // exactly as received, dot-unstuffed
	ID    string
	User  string // the AUTH user
	TLS   bool   // it came over TLS (STARTTLS or implicit)
}

// Stage names a command a Respond func is asked about.
type Stage string

// Stages.
const (
	Mail Stage = "MAIL"
	Rcpt Stage = "RCPT"
	Data Stage = "DATA" // after the data has been read
)

// A Server is a running fake.
type Server struct {
	Addr     string // host:port
	User     string // the one AUTH user; "" accepts no AUTH
	Password string
	// Plain lets MAIL without TLS and AUTH (as smtp-sink does).
	Plain bool
	// Respond, if set, is asked at each stage (n counts DATA commands,
	// 1-based) and may return an error reply (or block, to be slow). A
	// reply of code 0 with Message "reset" drops the connection.
	Respond func(stage Stage, n int, arg string) *smtp.SMTPError
	// Keep, if set, is what of each accepted message's bytes Data records
	// (a load test keeps a digest, not every message).
	Keep func(data []byte) []byte

	srv   *smtp.Server
	l     net.Listener
	mu    sync.Mutex
	msg   []Message
	n     int
	cur   map[*trackedConn]bool // open connections
	conns int                   // connections accepted
	live  map[*session]bool     // sessions not logged out
}

// trackedListener counts connections (a go-smtp session is not one: it
// starts again after STARTTLS).
type trackedListener struct {
	net.Listener
	s *Server
}

func (l trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, s: l.s}
	l.s.mu.Lock()
	l.s.cur[tc] = true
	l.s.conns++
	l.s.mu.Unlock()
	return tc, nil
}

type trackedConn struct {
	net.Conn
	s *Server
}

func (c *trackedConn) Close() error {
	c.s.mu.Lock()
	delete(c.s.cur, c)
	c.s.mu.Unlock()
	return c.Conn.Close()
}

// ErrReset as a Respond result drops the connection instead of replying.
var ErrReset = &smtp.SMTPError{Code: 0, Message: "reset"}

// New starts a server offering STARTTLS with a certificate from Cert.
func New(c *Cert) (*Server, error) { return newServer(c, false) }

// NewTLS starts a server that speaks TLS from the first byte (implicit
// TLS, SES's port 465), with a certificate from Cert.
func NewTLS(c *Cert) (*Server, error) { return newServer(c, true) }

func newServer(c *Cert, implicit bool) (*Server, error) {
	s := &Server{User: "AKIAFAKE", Password: "fake-smtp-password", cur: map[*trackedConn]bool{}, live: map[*session]bool{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Addr = l.Addr().String()
	l = trackedListener{l, s}
	if implicit {
		l = tls.NewListener(l, c.ServerTLS())
	}
	s.l = l
	s.srv = smtp.NewServer(smtp.BackendFunc(func(conn *smtp.Conn) (smtp.Session, error) {
		ss := &session{s: s, c: conn}
		s.mu.Lock()
		s.live[ss] = true
		s.mu.Unlock()
		return ss, nil
	}))
	s.srv.Domain = "email-smtp.fake.amazonaws.com"
	s.srv.TLSConfig = c.ServerTLS()
	s.srv.MaxMessageBytes = 40 << 20
	s.srv.ErrorLog = nopLogger{}
	go s.srv.Serve(l)
	return s, nil
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Println(...any)        {}

// Close stops the server and drops its connections. It closes the
// listener itself too: Serve runs in its own goroutine, and a go-smtp
// Server closed before Serve has registered the listener would otherwise
// go on accepting.
func (s *Server) Close() {
	s.l.Close()
	s.srv.Close()
}

// Connections returns how many connections the server has accepted and
// how many of them are open.
func (s *Server) Connections() (accepted, open int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns, len(s.cur)
}

// Hangup closes every open connection, as a server restarting or timing
// out idle clients does; a non-empty reply (such as "421 4.4.2 Timeout")
// is written to each first.
func (s *Server) Hangup(reply string) {
	s.mu.Lock()
	open := slices.Collect(maps.Keys(s.cur))
	live := slices.Collect(maps.Keys(s.live))
	s.mu.Unlock()
	if reply != "" {
		for _, ss := range live {
			io.WriteString(ss.c.Conn(), reply+"\r\n") // through TLS after STARTTLS
		}
	}
	for _, c := range open {
		c.Close()
	}
}

// Messages returns the accepted messages in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msg)
}

type session struct {
	s     *Server
	c     *smtp.Conn
	user  string
	from  string
	rcpts []string
}

func (ss *session) respond(st Stage, n int, arg string) error {
	if ss.s.Respond == nil {
		return nil
	}
	if r := ss.s.Respond(st, n, arg); r != nil {
		if r == ErrReset {
			ss.c.Conn().Close()
			return r
		}
		return r
	}
	return nil
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, password string) error {
		if ss.s.User == "" || user != ss.s.User || password != ss.s.Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication Credentials Invalid"}
		}
		ss.user = user
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.s.Plain {
		if _, ok := ss.c.TLSConnectionState(); !ok {
			return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
		}
		if ss.user == "" {
			return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
		}
	}
	if err := ss.respond(Mail, 0, from); err != nil {
		return err
	}
	ss.from, ss.rcpts = from, nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.respond(Rcpt, 0, to); err != nil {
		return err
	}
	ss.rcpts = append(ss.rcpts, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "read error"}
	}
	ss.s.mu.Lock()
	ss.s.n++
	n := ss.s.n
	ss.s.mu.Unlock()
	if err := ss.respond(Data, n, ""); err != nil {
		return err
	}
	id := fmt.Sprintf("0100019a-fake-smtp-%06d", n)
	ss.s.mu.Lock()
	if ss.s.Keep != nil {
		b = ss.s.Keep(b)
	}
	_, overTLS := ss.c.TLSConnectionState()
	ss.s.msg = append(ss.s.msg, Message{From: ss.from, Rcpts: slices.Clone(ss.rcpts), Data: b, ID: id, User: ss.user, TLS: overTLS})
	ss.s.mu.Unlock()
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "Ok " + id}
}

func (ss *session) Reset() { ss.from, ss.rcpts = "", nil }
func (ss *session) Logout() error {
	ss.s.mu.Lock()
	delete(ss.s.live, ss)
	ss.s.mu.Unlock()
	return nil
}

// A Cert is a self-signed certificate for 127.0.0.1 and localhost, and its
// files.
type Cert struct {
	CertFile, KeyFile string // PEM files
	cert              tls.Certificate
	pool              *x509.CertPool
}

// NewCert makes a certificate valid for a day and writes its files into
// dir.
func NewCert(dir string) (*Cert, error) { return NewCertFor(dir, 24*time.Hour) }

// NewCertFor is NewCert with a certificate valid for d from now.
func NewCertFor(dir string, d time.Duration) (*Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sesmime test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(d),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	c := &Cert{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem")}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	if err := errors.Join(os.WriteFile(c.CertFile, certPEM, 0o644), os.WriteFile(c.KeyFile, keyPEM, 0o600)); err != nil {
		return nil, err
	}
	if c.cert, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return nil, err
	}
	c.pool = x509.NewCertPool()
	c.pool.AppendCertsFromPEM(certPEM)
	return c, nil
}

// ServerTLS is a server configuration with the certificate.
func (c *Cert) ServerTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.cert}}
}

// ClientTLS is a client configuration that trusts only the certificate.
func (c *Cert) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: c.pool, ServerName: "127.0.0.1"}
}
