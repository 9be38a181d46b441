package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/emersion/go-smtp"

	"github.com/sesmime/sesmime/awsses/fakeses"
	"github.com/sesmime/sesmime/daemon/internal/fakesmtp"
	"github.com/sesmime/sesmime/daemon/internal/ops"
)

var (
	certOnce sync.Once
	testCert *fakesmtp.Cert
)

func cert(t testing.TB) *fakesmtp.Cert {
	certOnce.Do(func() {
		dir, err := os.MkdirTemp("", "relaycert")
		if err != nil {
			t.Fatal(err)
		}
		testCert, err = fakesmtp.NewCert(dir)
		if err != nil {
			t.Fatal(err)
		}
	})
	return testCert
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testCert != nil {
		os.RemoveAll(filepath.Dir(testCert.CertFile))
	}
	os.Exit(code)
}

func fakeSMTP(t testing.TB) *fakesmtp.Server {
	s, err := fakesmtp.New(cert(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func fakeAPI(t testing.TB) *fakeses.Server {
	s := fakeses.New()
	t.Cleanup(func() {
		s.Close()
		if p := s.Problems(); len(p) > 0 {
			t.Errorf("requests the fake SES could not read: %q", p)
		}
	})
	return s
}

// smtpConfig is a relay on loopback in front of the fake SMTP server.
func smtpConfig(t testing.TB, up *fakesmtp.Server) *Config {
	return &Config{
		Listeners:        []Listener{{Addr: "127.0.0.1:0"}},
		Upstream:         "smtp://" + up.Addr,
		UpstreamUser:     up.User,
		UpstreamPassword: up.Password,
		UpstreamCA:       cert(t).CertFile,
	}
}

func apiConfig(api *fakeses.Server, kind string) *Config {
	return &Config{
		Listeners:   []Listener{{Addr: "127.0.0.1:0"}},
		Upstream:    kind + "://us-east-1",
		EndpointURL: api.URL,
	}
}

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logLines decodes the log's JSON lines.
func logLines(t testing.TB, lb *logBuf) []map[string]any {
	t.Helper()
	var ls []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(lb.String()), "\n") {
		if l == "" {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		ls = append(ls, v)
	}
	return ls
}

func startRelay(t testing.TB, cfg *Config) (*Relay, *logBuf) {
	t.Helper()
	lb := &logBuf{}
	return startRelayDeps(t, cfg, Deps{Log: ops.NewLog(lb)}), lb
}

// startRelayDeps starts a relay with deps, test credentials unless deps
// has its own.
func startRelayDeps(t testing.TB, cfg *Config, deps Deps) *Relay {
	t.Helper()
	if deps.Credentials == nil {
		deps.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRETTEST", "")
	}
	r, err := New(context.Background(), cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// send delivers one message through addr with go-smtp's client and returns
// the DATA reply (or the first error).
func send(t testing.TB, addr, from string, to []string, msg string) (string, error) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.Mail(from, nil); err != nil {
		return "", err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return "", err
		}
	}
	w, err := c.Data()
	if err != nil {
		return "", err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return "", err
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", err
	}
	c.Quit()
	return resp.StatusText, nil
}

// rawSession speaks SMTP by hand, for inputs a client library would fix.
type rawSession struct {
	t *testing.T
	c net.Conn
	b []byte
}

func dialRaw(t *testing.T, addr string) *rawSession {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s := &rawSession{t: t, c: c}
	s.expect("220")
	return s
}

// dialData opens a session and goes as far as the DATA command's 354.
func dialData(t *testing.T, addr string) *rawSession {
	s := dialRaw(t, addr)
	s.cmd("EHLO x\r\n")
	s.cmd("MAIL FROM:<a@example.com>\r\n")
	s.cmd("RCPT TO:<b@example.org>\r\n")
	if r := s.cmd("DATA\r\n"); !strings.HasPrefix(r, "354") {
		t.Fatalf("DATA: %q, want 354", r)
	}
	return s
}

// rawDeadline only keeps a hung session from blocking the test: it is
// past the relay's default upstream_timeout (2m), so a slow upstream shows
// as the relay's reply, and far past what a loaded machine takes to relay
// the corpus's largest messages under -race.
const rawDeadline = 3 * time.Minute

// cmd writes line (no CRLF added) and returns the next reply.
func (s *rawSession) cmd(line string) string {
	s.c.SetDeadline(time.Now().Add(rawDeadline))
	if _, err := s.c.Write([]byte(line)); err != nil {
		s.t.Fatalf("write %q: %v", line, err)
	}
	return s.reply()
}

func (s *rawSession) reply() string {
	var out []string
	for {
		line, err := s.readLine()
		if err != nil {
			return strings.Join(out, "\n") + fmt.Sprintf("<error %v>", err)
		}
		out = append(out, line)
		if len(line) < 4 || line[3] != '-' {
			return strings.Join(out, "\n")
		}
	}
}

func (s *rawSession) readLine() (string, error) {
	for {
		if i := bytes.Index(s.b, []byte("\r\n")); i >= 0 {
			line := string(s.b[:i])
			s.b = s.b[i+2:]
			return line, nil
		}
		buf := make([]byte, 4096)
		n, err := s.c.Read(buf)
		s.b = append(s.b, buf[:n]...)
		if err != nil {
			return "", err
		}
	}
}

func (s *rawSession) expect(prefix string) string {
	r := s.reply()
	if !strings.HasPrefix(r, prefix) {
		s.t.Fatalf("reply %q, want %s", r, prefix)
	}
	return r
}
