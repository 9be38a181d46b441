package relay

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"golang.org/x/crypto/bcrypt"

	"github.com/sesmime/sesmime/daemon/internal/fakesmtp"
	"github.com/sesmime/sesmime/daemon/internal/ops"
)

// reloadFiles are a relay's reloadable files in a directory of their own,
// which a test rewrites between reloads.
type reloadFiles struct {
	t                       *testing.T
	cert, key, rules, users string
}

func newReloadFiles(t *testing.T) *reloadFiles {
	dir := t.TempDir()
	return &reloadFiles{t: t, cert: filepath.Join(dir, "cert.pem"), key: filepath.Join(dir, "key.pem"),
		rules: filepath.Join(dir, "rules.toml"), users: filepath.Join(dir, "users")}
}

func (f *reloadFiles) write(path string, b []byte) {
	f.t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		f.t.Fatal(err)
	}
}

func (f *reloadFiles) read(path string) []byte {
	f.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// useCert copies c's certificate and key over the listener's files.
func (f *reloadFiles) useCert(c *fakesmtp.Cert) {
	f.write(f.cert, f.read(c.CertFile))
	f.write(f.key, f.read(c.KeyFile))
}

func (f *reloadFiles) configSet(cs string) {
	f.write(f.rules, []byte("[default]\nconfig_set = \""+cs+"\"\n"))
}

// der is the certificate of a PEM file, as a TLS peer presents it.
func der(t *testing.T, certFile string) []byte {
	t.Helper()
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := pem.Decode(b)
	if p == nil {
		t.Fatalf("%s: no PEM", certFile)
	}
	return p.Bytes
}

// reload runs what SIGHUP runs and returns its log line.
func reload(t *testing.T, r *Relay, lb *logBuf) map[string]any {
	t.Helper()
	n := len(logLines(t, lb))
	ops.Reload(r, r.log, r.Metrics)
	ls := logLines(t, lb)
	if len(ls) != n+1 || ls[n]["event"] != "reload" {
		t.Fatalf("reload wrote %d lines, want one reload line: %v", len(ls)-n, ls[n:])
	}
	return ls[n]
}

// items are the names in a reload line's reloaded or failed field.
func items(l map[string]any, field string) []string {
	var out []string
	switch v := l[field].(type) {
	case []any:
		for _, s := range v {
			out = append(out, fmt.Sprint(s))
		}
	case map[string]any:
		for k := range v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// metric is the value of the counter or gauge of r's metrics with the
// name and labels; 0 if there is none.
func metric(t *testing.T, r *Relay, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := r.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metric
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// tlsClient connects to a TLS listener (STARTTLS or implicit), trusting
// whatever certificate it shows: the test compares it.
func tlsClient(t *testing.T, mode, addr string) *smtp.Client {
	t.Helper()
	tc := &tls.Config{InsecureSkipVerify: true}
	dial := smtp.DialStartTLS
	if mode == "implicit" {
		dial = smtp.DialTLS
	}
	c, err := dial(addr, tc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// EHLO: after STARTTLS the handshake runs at the first command.
	if err := c.Hello("client"); err != nil {
		t.Fatal(err)
	}
	return c
}

// served is the certificate the server showed c.
func served(t *testing.T, c *smtp.Client) []byte {
	t.Helper()
	st, ok := c.TLSConnectionState()
	if !ok || len(st.PeerCertificates) == 0 {
		t.Fatal("no TLS")
	}
	return st.PeerCertificates[0].Raw
}

// TestReloadCertificate: a reload (what SIGHUP runs) puts a listener's new
// certificate and key in use for new handshakes while a connection opened
// before keeps its own and still delivers; a replacement that does not
// load (garbage, a missing key, a key of another certificate) is reported
// in the reload line and the metric and keeps the certificate in use,
// and the rules reloaded in the same reload still take effect.
func TestReloadCertificate(t *testing.T) {
	certA, err := fakesmtp.NewCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	certB, err := fakesmtp.NewCertFor(t.TempDir(), 48*time.Hour) // expires later than A
	if err != nil {
		t.Fatal(err)
	}
	derA, derB := der(t, certA.CertFile), der(t, certB.CertFile)
	if bytes.Equal(derA, derB) {
		t.Fatal("the two test certificates are the same")
	}
	bad := []struct {
		name    string
		replace func(*reloadFiles)
		err     string // in the reason
	}{
		{"garbage", func(f *reloadFiles) { f.write(f.cert, []byte("not a certificate\n")) }, "PEM"},
		{"key missing", func(f *reloadFiles) { os.Remove(f.key) }, "key.pem"},
		{"key of another certificate", func(f *reloadFiles) {
			f.write(f.cert, f.read(certA.CertFile))
			f.write(f.key, f.read(certB.KeyFile))
		}, "private key does not match"},
	}
	const certItem = "listener submission certificate"
	for _, mode := range []string{"starttls", "implicit"} {
		t.Run(mode, func(t *testing.T) {
			up := fakeSMTP(t)
			f := newReloadFiles(t)
			f.useCert(certA)
			f.configSet("one")
			cfg := smtpConfig(t, up)
			cfg.Rules = f.rules
			cfg.Listeners = []Listener{{Name: "submission", Addr: "127.0.0.1:0", TLS: mode, Cert: f.cert, Key: f.key, RequireTLS: true}}
			r, lb := startRelay(t, cfg)
			addr := r.Addrs()[0]
			sendOn := func(c *smtp.Client, wantSet string) {
				t.Helper()
				if err := c.SendMail("a@example.com", []string{"b@example.org"}, strings.NewReader(simple)); err != nil {
					t.Fatalf("send: %v", err)
				}
				m := up.Messages()
				if got := string(m[len(m)-1].Data); !strings.HasPrefix(got, "X-SES-CONFIGURATION-SET: "+wantSet+"\r\n") {
					t.Errorf("upstream got %q, want configuration set %s", got, wantSet)
				}
			}

			before := tlsClient(t, mode, addr)
			if !bytes.Equal(served(t, before), derA) {
				t.Fatal("before the reload the listener does not show certificate A")
			}
			expiry := func(when string, der []byte) {
				t.Helper()
				c, err := x509.ParseCertificate(der)
				if err != nil {
					t.Fatal(err)
				}
				if got := metric(t, r, "sesmime_relay_cert_expiry_timestamp_seconds", map[string]string{"listener": "submission"}); got != float64(c.NotAfter.Unix()) {
					t.Errorf("%s: cert_expiry_timestamp_seconds = %v, want %d (NotAfter of the certificate served)", when, got, c.NotAfter.Unix())
				}
			}
			expiry("at start", derA)
			f.useCert(certB)
			f.configSet("two")
			l := reload(t, r, lb)
			if got := items(l, "reloaded"); !slices.Equal(got, []string{certItem, "rules"}) || l["failed"] != nil {
				t.Errorf("reload line: reloaded %q, failed %v; want the certificate and the rules, nothing failed: %v", got, l["failed"], l)
			}
			if msg := fmt.Sprint(l["msg"]); !strings.Contains(msg, "certificate reloaded from "+f.cert) || !strings.Contains(msg, "valid until") {
				t.Errorf("reload line does not say which certificate is in use: %q", msg)
			}
			after := tlsClient(t, mode, addr)
			if !bytes.Equal(served(t, after), derB) {
				t.Error("after the reload a new connection does not get certificate B")
			}
			expiry("after the reload", derB)
			sendOn(after, "two")
			// The connection from before keeps its certificate and works.
			if !bytes.Equal(served(t, before), derA) {
				t.Error("the connection opened before the reload changed certificate")
			}
			sendOn(before, "two")

			for i, tc := range bad {
				f.useCert(certB)
				tc.replace(f)
				f.configSet(fmt.Sprint("bad", i))
				l := reload(t, r, lb)
				if got := items(l, "failed"); !slices.Equal(got, []string{certItem}) || !slices.Equal(items(l, "reloaded"), []string{"rules"}) {
					t.Errorf("%s: reload line: failed %q, reloaded %q; want the certificate failed and the rules reloaded: %v", tc.name, got, items(l, "reloaded"), l)
				} else if why := fmt.Sprint(l["failed"].(map[string]any)[certItem]); !strings.Contains(why, tc.err) {
					t.Errorf("%s: reason %q does not contain %q", tc.name, why, tc.err)
				}
				if msg := fmt.Sprint(l["msg"]); !strings.Contains(msg, "the old one stays") {
					t.Errorf("%s: reload line does not say the old certificate stays: %q", tc.name, msg)
				}
				c := tlsClient(t, mode, addr)
				if !bytes.Equal(served(t, c), derB) {
					t.Errorf("%s: after the failed reload a new connection does not get certificate B", tc.name)
				}
				sendOn(c, fmt.Sprint("bad", i)) // the rules reloaded all the same
				expiry(tc.name, derB)
			}
			labels := func(result string) map[string]string {
				return map[string]string{"listener": "submission", "result": result}
			}
			for _, m := range []struct {
				name   string
				labels map[string]string
				want   float64
			}{
				{"sesmime_relay_cert_reloads_total", labels("ok"), 1},
				{"sesmime_relay_cert_reloads_total", labels("error"), float64(len(bad))},
				{"sesmime_relay_rules_reloads_total", map[string]string{"result": "ok"}, float64(1 + len(bad))},
				{"sesmime_relay_rules_reloads_total", map[string]string{"result": "error"}, 0},
			} {
				if got := metric(t, r, m.name, m.labels); got != m.want {
					t.Errorf("%s%v = %v, want %v", m.name, m.labels, got, m.want)
				}
			}
		})
	}
}

func bcryptLine(t *testing.T, user, password string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return user + ":" + string(h) + "\n"
}

// TestReloadUsers: after a reload a user added to the users file can AUTH
// and one removed cannot, while a session that authenticated before stays
// authenticated; a users file that does not load keeps the users in use
// and names the file and line, and the rules still reload.
func TestReloadUsers(t *testing.T) {
	up := fakeSMTP(t)
	f := newReloadFiles(t)
	app, ops2 := bcryptLine(t, "app", "s3cret"), bcryptLine(t, "ops", "pw2")
	f.write(f.users, []byte(app))
	f.configSet("one")
	cfg := smtpConfig(t, up)
	cfg.Rules, cfg.Users = f.rules, f.users
	// Loopback without TLS: AUTH allowed (AllowInsecureAuth).
	cfg.Listeners = []Listener{{Name: "submission", Addr: "127.0.0.1:0", Auth: true}}
	r, lb := startRelay(t, cfg)
	addr := r.Addrs()[0]
	login := func(user, password string) (*smtp.Client, error) {
		t.Helper()
		c, err := smtp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, c.Auth(sasl.NewPlainClient("", user, password))
	}
	sendOn := func(c *smtp.Client, what string) {
		t.Helper()
		if err := c.SendMail("a@example.com", []string{"b@example.org"}, strings.NewReader(simple)); err != nil {
			t.Errorf("%s: send: %v", what, err)
		}
	}
	before, err := login("app", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := login("ops", "pw2"); code(err) != 535 {
		t.Fatalf("AUTH of a user not yet in the file: %v, want 535", err)
	}

	f.write(f.users, []byte("# app is gone, ops is new\n"+ops2))
	l := reload(t, r, lb)
	if got := items(l, "reloaded"); !slices.Equal(got, []string{"rules", "users"}) || l["failed"] != nil {
		t.Errorf("reload line: reloaded %q, failed %v; want the rules and the users: %v", got, l["failed"], l)
	}
	if c, err := login("ops", "pw2"); err != nil {
		t.Errorf("AUTH of the user added: %v", err)
	} else {
		sendOn(c, "the user added")
	}
	if _, err := login("app", "s3cret"); code(err) != 535 {
		t.Errorf("AUTH of the user removed: %v, want 535", err)
	}
	sendOn(before, "the session authenticated before the reload")

	for i, tc := range []struct {
		name, file, err string
	}{
		{"no colon", "# users\n" + app + "nocolon\n", "users:3: want name:bcrypt-hash"},
		{"not bcrypt", app + "bob:plaintext\n", "users:2: user bob: not a bcrypt hash"},
		{"user twice", app + app, "users:2: user app given twice"},
		{"missing", "", "no such file"},
	} {
		if tc.file == "" {
			os.Remove(f.users)
		} else {
			f.write(f.users, []byte(tc.file))
		}
		f.configSet(fmt.Sprint("bad", i))
		l := reload(t, r, lb)
		if got := items(l, "failed"); !slices.Equal(got, []string{"users"}) || !slices.Equal(items(l, "reloaded"), []string{"rules"}) {
			t.Errorf("%s: reload line: failed %q, reloaded %q; want the users failed and the rules reloaded: %v", tc.name, got, items(l, "reloaded"), l)
		} else if why := fmt.Sprint(l["failed"].(map[string]any)["users"]); !strings.Contains(why, tc.err) {
			t.Errorf("%s: reason %q does not contain %q", tc.name, why, tc.err)
		}
		if c, err := login("ops", "pw2"); err != nil {
			t.Errorf("%s: the old users do not stay: AUTH ops: %v", tc.name, err)
		} else {
			sendOn(c, tc.name)
			m := up.Messages()
			if got := string(m[len(m)-1].Data); !strings.HasPrefix(got, fmt.Sprintf("X-SES-CONFIGURATION-SET: bad%d\r\n", i)) {
				t.Errorf("%s: the rules did not reload: upstream got %q", tc.name, got)
			}
		}
		if _, err := login("app", "s3cret"); code(err) != 535 {
			t.Errorf("%s: AUTH of a user only the bad file has: %v, want 535", tc.name, err)
		}
	}
	if got := metric(t, r, "sesmime_relay_users_reloads_total", map[string]string{"result": "error"}); got != 4 {
		t.Errorf("users_reloads_total{result=error} = %v, want 4", got)
	}
	if got := metric(t, r, "sesmime_relay_users_reloads_total", map[string]string{"result": "ok"}); got != 1 {
		t.Errorf("users_reloads_total{result=ok} = %v, want 1", got)
	}
}

// TestReloadZeroConfig: without TLS listeners or a users file a reload
// reloads the rules alone and the listener offers neither STARTTLS nor
// AUTH, as before.
func TestReloadZeroConfig(t *testing.T) {
	up := fakeSMTP(t)
	r, lb := startRelay(t, smtpConfig(t, up))
	l := reload(t, r, lb)
	if got := items(l, "reloaded"); !slices.Equal(got, []string{"rules"}) || l["failed"] != nil {
		t.Errorf("reload line: %v, want the rules alone", l)
	}
	c, err := smtp.Dial(r.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client"); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"STARTTLS", "AUTH"} {
		if ok, _ := c.Extension(ext); ok {
			t.Errorf("the zero config offers %s", ext)
		}
	}
}
