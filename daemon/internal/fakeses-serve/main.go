// Command fakeses-serve runs awsses/fakeses on loopback for benchmarks:
// it prints the endpoint URL on stdout and serves until killed. Requests
// are counted per access key, not kept.
//
// With -proxy FILE it also runs an HTTPS proxy for clients that cannot be
// pointed at an endpoint URL (relays on SDKs without endpoint settings):
// HTTPS_PROXY set to the proxy's URL (the second line on stdout) and
// AWS_CA_BUNDLE to FILE make such a client reach the fake over TLS, as it
// would reach SES. The proxy answers CONNECT to any host with a
// certificate for that host from a CA made at start (written to FILE),
// and GET /sent with one "ACCESS_KEY COUNT" line per key of the sends
// the fake accepted, for a benchmark to check that every message arrived.
package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/sesmime/sesmime/awsses/fakeses"
)

func main() {
	caFile := flag.String("proxy", "", "also run an HTTPS proxy to the fake; write its CA certificate to `FILE`")
	flag.Parse()
	s := fakeses.New()
	s.MaxSendRate = 1e6
	s.Discard = true
	fmt.Println(s.URL)
	if *caFile != "" {
		p, err := startProxy(s, *caFile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "fakeses-serve: %v\n", err)
			os.Exit(1)
		}
		fmt.Println(p)
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
	fmt.Fprint(os.Stderr, "fakeses-serve: sent per access key:\n", sentLines(s))
	s.Close()
}

// sentLines formats s.Sent() as sorted "KEY COUNT" lines.
func sentLines(s *fakeses.Server) string {
	sent := s.Sent()
	keys := make([]string, 0, len(sent))
	for k := range sent {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out string
	for _, k := range keys {
		out += fmt.Sprintf("%s %d\n", k, sent[k])
	}
	return out
}

// startProxy starts the proxy on loopback and returns its URL.
func startProxy(s *fakeses.Server, caFile string) (string, error) {
	ca, err := newCA()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}), 0o644); err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	tunnels := &connListener{ch: make(chan net.Conn), addr: ln.Addr()}
	inner := &http.Server{Handler: s, ReadHeaderTimeout: time.Minute}
	go inner.Serve(tunnels)
	tcfg := &tls.Config{GetCertificate: ca.leaf, MinVersion: tls.VersionTLS12}
	outer := &http.Server{ReadHeaderTimeout: time.Minute, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/sent":
			fmt.Fprint(w, sentLines(s))
		case r.Method == http.MethodConnect:
			c, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			if _, err := c.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
				c.Close()
				return
			}
			tunnels.ch <- tls.Server(&bufConn{Conn: c, r: buf.Reader}, tcfg)
		default:
			http.Error(w, "only CONNECT and GET /sent", http.StatusMethodNotAllowed)
		}
	})}
	go outer.Serve(ln)
	return "http://" + ln.Addr().String(), nil
}

// connListener hands the proxy's TLS tunnels to an http.Server.
type connListener struct {
	ch   chan net.Conn
	addr net.Addr
}

func (l *connListener) Accept() (net.Conn, error) { return <-l.ch, nil }
func (l *connListener) Close() error              { return errors.New("not closable") }
func (l *connListener) Addr() net.Addr            { return l.addr }

// bufConn reads what the CONNECT request's reader already buffered first.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// ca issues a certificate for each server name it is asked for.
type ca struct {
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	mu     sync.Mutex
	leaves map[string]*tls.Certificate
}

func newCA() (*ca, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fakeses-serve test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &ca{cert: cert, key: key, leaves: map[string]*tls.Certificate{}}, nil
}

// leaf is the tls.Config GetCertificate: a certificate for the name the
// client asked for, made once.
func (a *ca) leaf(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := hello.ServerName
	if name == "" {
		return nil, errors.New("no server name in the TLS hello")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.leaves[name]; ok {
		return c, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(int64(len(a.leaves) + 2)),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{Certificate: [][]byte{der, a.cert.Raw}, PrivateKey: key}
	a.leaves[name] = c
	return c, nil
}
