package relay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"golang.org/x/crypto/bcrypt"

	"github.com/sesmime/sesmime/awsses/fakeses"
	"github.com/sesmime/sesmime/daemon/internal/fakesmtp"
)

func smtpErr(code int, a, b, c int, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{a, b, c}, Message: msg}
}

func code(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return -1
}

// TestSMTPUpstreamReplies scripts the fake SES SMTP server and checks what
// the client is told and what was delivered.
func TestSMTPUpstreamReplies(t *testing.T) {
	cases := []struct {
		name      string
		stage     fakesmtp.Stage
		reply     *smtp.SMTPError
		want      int
		delivered int
	}{
		{"accepted", "", nil, 250, 1},
		{"421 at MAIL", fakesmtp.Mail, smtpErr(421, 4, 4, 2, "Too many connections"), 451, 0},
		{"451 at DATA", fakesmtp.Data, smtpErr(451, 4, 3, 0, "Temporary service failure"), 451, 0},
		{"454 at DATA", fakesmtp.Data, smtpErr(454, 4, 7, 0, "Throttling failure: Maximum sending rate exceeded."), 454, 0},
		{"554 at DATA", fakesmtp.Data, smtpErr(554, 5, 0, 0, "Message rejected: Email address is not verified."), 554, 0},
		{"550 at RCPT", fakesmtp.Rcpt, smtpErr(550, 5, 1, 1, "Mailbox unavailable"), 550, 0},
		{"reset mid-DATA", fakesmtp.Data, fakesmtp.ErrReset, 451, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := fakeSMTP(t)
			up.Respond = func(st fakesmtp.Stage, n int, arg string) *smtp.SMTPError {
				if st == tc.stage {
					return tc.reply
				}
				return nil
			}
			r, lb := startRelay(t, smtpConfig(t, up))
			_, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple)
			got := 250
			if err != nil {
				got = code(err)
			}
			if got != tc.want {
				t.Errorf("reply %v, want %d", err, tc.want)
			}
			if n := len(up.Messages()); n != tc.delivered {
				t.Errorf("%d messages delivered, want %d", n, tc.delivered)
			}
			// A MAIL or RCPT the upstream refused is logged with its cause.
			var refused []map[string]any
			for _, l := range logLines(t, lb) {
				if l["event"] == "refused" {
					refused = append(refused, l)
				}
			}
			switch tc.stage {
			case fakesmtp.Mail, fakesmtp.Rcpt:
				if len(refused) != 1 || refused[0]["stage"] != string(tc.stage) || refused[0]["code"] != fmt.Sprint(tc.want) ||
					!strings.Contains(fmt.Sprint(refused[0]["error"]), tc.reply.Message) ||
					tc.stage == fakesmtp.Rcpt && refused[0]["to"] != "b@example.org" {
					t.Errorf("refused lines %v, want one for %s with code %d and the upstream's reply", refused, tc.stage, tc.want)
				}
			default:
				if len(refused) != 0 {
					t.Errorf("refused lines %v, want none", refused)
				}
			}
		})
	}
}

func TestUpstreamDownAndSlow(t *testing.T) {
	t.Run("down", func(t *testing.T) {
		up := fakeSMTP(t)
		cfg := smtpConfig(t, up)
		r, lb := startRelay(t, cfg) // before closing: it must not get the fake's port
		up.Close()
		_, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple)
		if c := code(err); c != 451 {
			t.Errorf("reply %v, want 451 4.4.1", err)
		}
		// The client's 451 does not say why; the log does.
		if ls := logLines(t, lb); len(ls) != 1 || ls[0]["event"] != "refused" || ls[0]["stage"] != "MAIL" ||
			ls[0]["from"] != "a@example.com" || !strings.Contains(fmt.Sprint(ls[0]["error"]), "connect") {
			t.Errorf("log %v, want one refused MAIL line naming the connect error", ls)
		}
	})
	t.Run("slow past the deadline", func(t *testing.T) {
		up := fakeSMTP(t)
		release := make(chan struct{})
		defer close(release)
		up.Respond = func(st fakesmtp.Stage, n int, arg string) *smtp.SMTPError {
			if st == fakesmtp.Data {
				<-release
			}
			return nil
		}
		cfg := smtpConfig(t, up)
		cfg.UpstreamTimeout.Duration = 300 * time.Millisecond
		r, _ := startRelay(t, cfg)
		_, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple)
		if c := code(err); c != 451 {
			t.Errorf("reply %v, want 451", err)
		}
	})
	t.Run("API slow past the deadline", func(t *testing.T) {
		api := fakeAPI(t)
		api.Respond = func(n int, _ fakeses.Request) fakeses.Fault {
			time.Sleep(time.Second)
			return fakeses.OK
		}
		cfg := apiConfig(api, upSESv2)
		cfg.Rate = 100
		cfg.UpstreamTimeout.Duration = 200 * time.Millisecond
		r, _ := startRelay(t, cfg)
		_, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple)
		if c := code(err); c != 451 {
			t.Errorf("reply %v, want 451", err)
		}
	})
}

// TestAPIErrors: throttling is 454 (after the SDK's few retries), a
// rejection or unknown configuration set 554, SES trouble 451.
func TestAPIErrors(t *testing.T) {
	cases := []struct {
		fault fakeses.Fault
		want  int
	}{
		{fakeses.OK, 250},
		{fakeses.Throttle, 454},
		{fakeses.Rejected, 554},
		{fakeses.NoConfigSet, 554},
		{fakeses.Invalid, 554},
		{fakeses.Unavailable, 451},
		{fakeses.Malformed, 451},
	}
	for _, kind := range []string{upSESv2, upSESv1} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/%d", kind, tc.fault), func(t *testing.T) {
				api := fakeAPI(t)
				api.Respond = func(int, fakeses.Request) fakeses.Fault { return tc.fault }
				cfg := apiConfig(api, kind)
				cfg.Rate = 100
				r, _ := startRelay(t, cfg)
				reply, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple)
				got := 250
				if err != nil {
					got = code(err)
				}
				if got != tc.want {
					t.Errorf("reply %q %v, want %d", reply, err, tc.want)
				}
				n := len(api.Requests())
				if tc.fault == fakeses.Throttle && n != 3 || tc.fault != fakeses.Throttle && n != 1 {
					t.Errorf("%d requests: only throttling is retried (3 attempts)", n)
				}
			})
		}
	}
}

func TestLocalRateLimit(t *testing.T) {
	api := fakeAPI(t)
	api.MaxSendRate = 0.001
	r, _ := startRelay(t, apiConfig(api, upSESv2)) // rate from GetAccount: one per 1000 s, burst 1
	if _, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple); err != nil {
		t.Fatal(err)
	}
	_, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple)
	if c := code(err); c != 451 {
		t.Errorf("second recipient before a token comes back: %v, want 451 at once", err)
	}
	if n := len(api.Requests()); n != 1 {
		t.Errorf("%d sent, want 1", n)
	}
}

// TestClientGoneMidData: nothing goes upstream when the client vanishes.
func TestClientGoneMidData(t *testing.T) {
	up := fakeSMTP(t)
	r, _ := startRelay(t, smtpConfig(t, up))
	s := dialData(t, r.Addrs()[0])
	s.c.Write([]byte("Subject: half\r\n\r\npart of a body"))
	s.c.Close()
	time.Sleep(200 * time.Millisecond)
	if n := len(up.Messages()); n != 0 {
		t.Errorf("%d messages upstream after the client left mid-DATA", n)
	}
	// The relay still works.
	if _, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple); err != nil {
		t.Fatal(err)
	}
}

// TestSmuggling: "\n.\n" and "\r.\r" do not end the data; the upstream
// gets one message with those bytes in it, never a second one.
func TestSmuggling(t *testing.T) {
	for _, kind := range []string{upSMTP, upSESv1} {
		for _, end := range []string{"\n.\n", "\r.\r", "\r\n.\n", "\n.\r\n"} {
			t.Run(fmt.Sprintf("%s/%q", kind, end), func(t *testing.T) {
				var count func() (int, string)
				var cfg *Config
				if kind == upSMTP {
					up := fakeSMTP(t)
					cfg = smtpConfig(t, up)
					cfg.NormalizeLineEndings = false
					count = func() (int, string) {
						m := up.Messages()
						if len(m) == 0 {
							return 0, ""
						}
						return len(m), string(m[0].Data)
					}
				} else {
					api := fakeAPI(t)
					cfg = apiConfig(api, upSESv1)
					cfg.Rate = 100
					count = func() (int, string) {
						m := api.Requests()
						if len(m) == 0 {
							return 0, ""
						}
						return len(m), string(m[0].Raw)
					}
				}
				r, _ := startRelay(t, cfg)
				s := dialData(t, r.Addrs()[0])
				smuggled := "Subject: a\r\n\r\nfirst" + end + "MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n"
				reply := s.cmd(smuggled + ".\r\n")
				n, data := count()
				switch {
				case strings.HasPrefix(reply, "250"):
					// go-smtp removes a dot after CRLF (dot-unstuffing); the
					// bytes stay in the one message either way.
					if n != 1 || !strings.Contains(data, "first") || !strings.Contains(data, "MAIL FROM:<evil") {
						t.Errorf("250 with %d messages upstream: %q", n, data)
					}
				case strings.HasPrefix(reply, "554") && kind == upSMTP:
					if n != 0 {
						t.Errorf("554 but %d messages upstream", n)
					}
				default:
					t.Errorf("reply %q (%d upstream)", reply, n)
				}
				if r := s.cmd("NOOP\r\n"); !strings.HasPrefix(r, "250") {
					t.Errorf("after the message: %q", r)
				}
			})
		}
	}
}

// TestBareLFToSMTP: refused with a clear 554 by default, sent as CRLF when
// normalize_line_endings is set.
func TestBareLFToSMTP(t *testing.T) {
	msg := []byte("Subject: lf\n\nline one\nline two\r\r\nend\r\n")
	for _, normalize := range []bool{false, true} {
		t.Run(fmt.Sprint("normalize=", normalize), func(t *testing.T) {
			up := fakeSMTP(t)
			cfg := smtpConfig(t, up)
			cfg.NormalizeLineEndings = normalize
			cfg.ConfigSet = "cs"
			r, _ := startRelay(t, cfg)
			reply, _ := sendRaw(t, r.Addrs()[0], msg)
			m := up.Messages()
			if !normalize {
				if !strings.HasPrefix(reply, "554 5.6.0") || !strings.Contains(reply, "bare LF") || len(m) != 0 {
					t.Errorf("reply %q, %d upstream; want a 554 naming the bare LF and nothing sent", reply, len(m))
				}
				return
			}
			want := "X-SES-CONFIGURATION-SET: cs\r\nSubject: lf\r\n\r\nline one\r\nline two\r\nend\r\n"
			if !strings.HasPrefix(reply, "250") || len(m) != 1 || string(m[0].Data) != want {
				t.Errorf("reply %q, upstream %+v; want %q", reply, m, want)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	up := fakeSMTP(t)
	cfg := smtpConfig(t, up)
	cfg.MaxMessageBytes = 10000
	cfg.MaxRecipients = 3
	r, _ := startRelay(t, cfg)
	addr := r.Addrs()[0]
	t.Run("oversized", func(t *testing.T) {
		_, err := send(t, addr, "a@example.com", []string{"b@example.org"}, simple+strings.Repeat(strings.Repeat("x", 70)+"\r\n", 300))
		if code(err) != 552 {
			t.Errorf("reply %v, want 552", err)
		}
		s := dialRaw(t, addr)
		if ehlo := s.cmd("EHLO x\r\n"); !strings.Contains(ehlo, "SIZE 10000") {
			t.Errorf("EHLO does not advertise SIZE 10000: %q", ehlo)
		}
		if r := s.cmd("MAIL FROM:<a@example.com> SIZE=20000\r\n"); !strings.HasPrefix(r, "552") {
			t.Errorf("MAIL SIZE=20000: %q, want 552", r)
		}
	})
	t.Run("too many recipients", func(t *testing.T) {
		_, err := send(t, addr, "a@example.com", []string{"1@x.org", "2@x.org", "3@x.org", "4@x.org"}, simple)
		if c := code(err); c != 452 {
			t.Errorf("fourth recipient: %v, want 452", err)
		}
	})
	t.Run("memory cap", func(t *testing.T) {
		up := fakeSMTP(t)
		cfg := smtpConfig(t, up)
		cfg.MemoryLimit = 40000
		r, _ := startRelay(t, cfg)
		_, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple+strings.Repeat(strings.Repeat("y", 70)+"\r\n", 700))
		if c := code(err); c != 452 {
			t.Errorf("message over the memory cap: %v, want 452 4.3.1", err)
		}
		if n := r.MemoryInUse(); n != 0 {
			t.Errorf("%d bytes still held", n)
		}
		if len(up.Messages()) != 0 {
			t.Error("message sent")
		}
	})
}

func usersFile(t testing.TB, user, password string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "users")
	os.WriteFile(p, []byte("# test\n"+user+":"+string(h)+"\n"), 0o600)
	return p
}

// tlsAuthConfig is a listener on loopback with STARTTLS and AUTH required.
func tlsAuthConfig(t testing.TB, up *fakesmtp.Server) *Config {
	cfg := smtpConfig(t, up)
	cfg.Users = usersFile(t, "app", "s3cret")
	cfg.Listeners = []Listener{{Name: "submission", Addr: "127.0.0.1:0", Cert: cert(t).CertFile, Key: cert(t).KeyFile, RequireTLS: true, Auth: true}}
	return cfg
}

func TestAuthAndTLS(t *testing.T) {
	up := fakeSMTP(t)
	r, _ := startRelay(t, tlsAuthConfig(t, up))
	addr := r.Addrs()[0]
	t.Run("no TLS", func(t *testing.T) {
		s := dialRaw(t, addr)
		s.cmd("EHLO x\r\n")
		if r := s.cmd("MAIL FROM:<a@example.com>\r\n"); !strings.HasPrefix(r, "530") {
			t.Errorf("MAIL before STARTTLS: %q, want 530", r)
		}
		if r := s.cmd("AUTH PLAIN AGFwcABzM2NyZXQ=\r\n"); !strings.HasPrefix(r, "5") {
			t.Errorf("AUTH before STARTTLS: %q, want 5xx", r)
		}
	})
	dial := func(t *testing.T) *smtp.Client {
		c, err := smtp.DialStartTLS(addr, cert(t).ClientTLS())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	t.Run("no AUTH", func(t *testing.T) {
		if err := dial(t).Mail("a@example.com", nil); code(err) != 530 {
			t.Errorf("MAIL without AUTH: %v, want 530", err)
		}
	})
	t.Run("bad AUTH", func(t *testing.T) {
		c := dial(t)
		if err := c.Auth(sasl.NewPlainClient("", "app", "wrong")); code(err) != 535 {
			t.Errorf("AUTH with a wrong password: %v, want 535", err)
		}
		if err := c.Mail("a@example.com", nil); code(err) != 530 {
			t.Errorf("MAIL after failed AUTH: %v, want 530", err)
		}
	})
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			c := dial(t)
			var a sasl.Client = sasl.NewPlainClient("", "app", "s3cret")
			if mech == "LOGIN" {
				a = sasl.NewLoginClient("app", "s3cret")
			}
			if err := c.Auth(a); err != nil {
				t.Fatal(err)
			}
			if err := c.SendMail("a@example.com", []string{"b@example.org"}, strings.NewReader(simple)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestImplicitTLSRequireTLS: on an implicit TLS listener require_tls is
// met from the first command.
func TestImplicitTLSRequireTLS(t *testing.T) {
	up := fakeSMTP(t)
	cfg := tlsAuthConfig(t, up)
	cfg.Listeners[0].TLS = "implicit"
	r, _ := startRelay(t, cfg)
	c, err := smtp.DialTLS(r.Addrs()[0], cert(t).ClientTLS())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", "app", "s3cret")); err != nil {
		t.Fatalf("AUTH: %v", err)
	}
	if err := c.SendMail("a@example.com", []string{"b@example.org"}, strings.NewReader(simple)); err != nil {
		t.Fatalf("send: %v", err)
	}
	if n := len(up.Messages()); n != 1 {
		t.Errorf("%d messages upstream, want 1", n)
	}
}

func TestNoOpenRelay(t *testing.T) {
	up := fakeSMTP(t)
	cfg := smtpConfig(t, up)
	cfg.Listeners = []Listener{{Addr: "0.0.0.0:0"}}
	if _, err := New(context.Background(), cfg, Deps{}); err == nil || !strings.Contains(err.Error(), "open relay") {
		t.Errorf("New on 0.0.0.0 without auth or allow list: %v, want an open-relay refusal", err)
	}
	cfg.Listeners = []Listener{{Addr: "127.0.0.1:0", Allow: []string{"192.0.2.0/24"}}}
	r, _ := startRelay(t, cfg)
	c, err := net.Dial("tcp", r.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 100)
	n, _ := c.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "554 5.7.1") {
		t.Errorf("client outside the allow list got %q, want 554 5.7.1", buf[:n])
	}
}

// TestSplitPolicy: recipients whose rules pick another configuration set
// are deferred with 452 4.5.3 at RCPT, so each transaction (and message
// upstream) has one decision; the client sends them again in a new one.
func TestSplitPolicy(t *testing.T) {
	up := fakeSMTP(t)
	rulesFile := filepath.Join(t.TempDir(), "rules.toml")
	os.WriteFile(rulesFile, []byte("[[rule]]\nrcpt_to = \"*@eu.example.com\"\nconfig_set = \"eu\"\n[default]\nconfig_set = \"world\"\n"), 0o644)
	cfg := smtpConfig(t, up)
	cfg.Rules = rulesFile
	r, _ := startRelay(t, cfg)
	c, err := smtp.Dial(r.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Mail("a@example.com", nil)
	if err := c.Rcpt("x@eu.example.com", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("y@example.net", nil); code(err) != 452 {
		t.Fatalf("recipient for another set: %v, want 452 4.5.3", err)
	}
	if err := c.Rcpt("z@eu.example.com", nil); err != nil {
		t.Fatal(err)
	}
	w, _ := c.Data()
	w.Write([]byte(simple))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// The deferred recipient, in its own transaction.
	if err := c.SendMail("a@example.com", []string{"y@example.net"}, strings.NewReader(simple)); err != nil {
		t.Fatal(err)
	}
	m := up.Messages()
	if len(m) != 2 || !strings.HasPrefix(string(m[0].Data), "X-SES-CONFIGURATION-SET: eu\r\n") || len(m[0].Rcpts) != 2 ||
		!strings.HasPrefix(string(m[1].Data), "X-SES-CONFIGURATION-SET: world\r\n") || len(m[1].Rcpts) != 1 {
		t.Errorf("upstream got %d messages: %+v", len(m), m)
	}
}

// TestShutdownInFlight: a message in flight when shutdown begins is
// finished (250, delivered once); new connections are refused.
func TestShutdownInFlight(t *testing.T) {
	up := fakeSMTP(t)
	started := make(chan struct{})
	up.Respond = func(st fakesmtp.Stage, n int, arg string) *smtp.SMTPError {
		if st == fakesmtp.Data {
			close(started)
			time.Sleep(500 * time.Millisecond)
		}
		return nil
	}
	r, _ := startRelay(t, smtpConfig(t, up))
	addr := r.Addrs()[0]
	var wg sync.WaitGroup
	var err error
	wg.Go(func() { _, err = send(t, addr, "a@example.com", []string{"b@example.org"}, simple) })
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := r.Shutdown(ctx); serr != nil {
		t.Errorf("Shutdown: %v", serr)
	}
	wg.Wait()
	if err != nil {
		t.Errorf("message in flight: %v, want 250", err)
	}
	if n := len(up.Messages()); n != 1 {
		t.Errorf("%d delivered, want 1", n)
	}
	if _, err := send(t, addr, "a@example.com", []string{"b@example.org"}, simple); err == nil {
		t.Error("a new message was accepted after shutdown")
	}
}

// TestShutdownDeadline: past the deadline the upstream call is cancelled
// and the client gets a 4xx (or the connection drops), never a 250.
func TestShutdownDeadline(t *testing.T) {
	up := fakeSMTP(t)
	started := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	up.Respond = func(st fakesmtp.Stage, n int, arg string) *smtp.SMTPError {
		if st == fakesmtp.Data {
			close(started)
			<-release
		}
		return nil
	}
	r, _ := startRelay(t, smtpConfig(t, up))
	var wg sync.WaitGroup
	var err error
	wg.Go(func() { _, err = send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple) })
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r.Shutdown(ctx)
	wg.Wait()
	if err == nil {
		t.Error("250 for a message the upstream never confirmed")
	}
}

// TestLMTP: the LMTP listener (for Postfix transport_maps) delivers and
// reports per recipient.
func TestLMTP(t *testing.T) {
	up := fakeSMTP(t)
	cfg := smtpConfig(t, up)
	cfg.ConfigSet = "lmtp"
	cfg.Listeners = []Listener{{Name: "lmtp", Addr: "127.0.0.1:0", LMTP: true}}
	r, _ := startRelay(t, cfg)
	nc, err := net.Dial("tcp", r.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClientLMTP(nc)
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("a@example.com", nil); err != nil {
		t.Fatal(err)
	}
	for _, rc := range []string{"b@example.org", "c@example.org"} {
		if err := c.Rcpt(rc, nil); err != nil {
			t.Fatal(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(simple))
	resp, err := w.CloseWithLMTPResponse()
	if err != nil || len(resp) != 2 {
		t.Fatalf("LMTP DATA: %v %v", resp, err)
	}
	m := up.Messages()
	if len(m) != 1 || len(m[0].Rcpts) != 2 || !strings.HasPrefix(string(m[0].Data), "X-SES-CONFIGURATION-SET: lmtp\r\n") {
		t.Errorf("upstream got %+v", m)
	}
}

// TestLongLine: a line over max_line_length in DATA is refused for good
// (500 5.5.2) and the connection closes, so the rest of the data is never
// read as commands: nothing reaches the upstream, smuggled or not.
func TestLongLine(t *testing.T) {
	up := fakeSMTP(t)
	r, _ := startRelay(t, smtpConfig(t, up))
	s := dialData(t, r.Addrs()[0])
	data := "Subject: long\r\n\r\n" + strings.Repeat("x", 3000) + "\r\n.\r\n" +
		"MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n"
	if reply := s.cmd(data); !strings.HasPrefix(reply, "500 5.5.2") {
		t.Errorf("reply %q, want 500 5.5.2", reply)
	}
	for range 6 {
		if r := s.reply(); strings.Contains(r, "<error") {
			break
		} else if !strings.HasPrefix(r, "500") {
			t.Errorf("after the long line the relay answered %q: the rest of the data was read as commands", r)
		}
	}
	if n := len(up.Messages()); n != 0 {
		t.Errorf("%d messages upstream", n)
	}
}

// TestShutdownClosesStalled: a client stalled in DATA holds its connection
// only until the deadline; Shutdown returns with it closed and nothing sent.
func TestShutdownClosesStalled(t *testing.T) {
	up := fakeSMTP(t)
	r, _ := startRelay(t, smtpConfig(t, up))
	s := dialData(t, r.Addrs()[0])
	s.c.Write([]byte("Subject: stalled\r\n\r\npart of a body"))
	time.Sleep(50 * time.Millisecond) // let the relay start reading
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r.Shutdown(ctx)
	s.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := s.c.Read(make([]byte, 100)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read after Shutdown: %v, want the connection closed", err)
	}
	if n := len(up.Messages()); n != 0 {
		t.Errorf("%d messages upstream", n)
	}
}
