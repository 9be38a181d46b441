package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"golang.org/x/crypto/bcrypt"

	"github.com/sesmime/sesmime/daemon/internal/fakesmtp"
)

// TestSIGHUPReloadsCertAndUsers runs the command with --tls-cert,
// --tls-key, --users and --rules and sends it real SIGHUPs. The first
// comes with a garbage certificate, a new user and new rules: its one
// reload line names the certificate as failed (with the reason) and the
// rules and users as reloaded, the old certificate is still served, and
// the new user can AUTH and gets the new rules. The second, with
// certificate B, puts B in use for new connections.
func TestSIGHUPReloadsCertAndUsers(t *testing.T) {
	bin := buildRelay(t)
	up := plainUpstream(t)
	dir := t.TempDir()
	var certs [2]*fakesmtp.Cert
	for i := range certs {
		c, err := fakesmtp.NewCert(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		certs[i] = c
	}
	certA, certB := certs[0], certs[1]
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	rules, users := filepath.Join(dir, "rules.toml"), filepath.Join(dir, "users")
	write := func(path string, b []byte) {
		t.Helper()
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	copyFile := func(dst, src string) {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		write(dst, b)
	}
	userLine := func(user, password string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return user + ":" + string(h) + "\n"
	}
	der := func(c *fakesmtp.Cert) []byte {
		b, _ := os.ReadFile(c.CertFile)
		p, _ := pem.Decode(b)
		return p.Bytes
	}
	copyFile(certFile, certA.CertFile)
	copyFile(keyFile, certA.KeyFile)
	write(users, []byte(userLine("app", "s3cret")))
	write(rules, []byte("[default]\nconfig_set = \"one\"\n"))
	p := startRelayProc(t, bin, "--listen", "127.0.0.1:0", "--upstream", "smtp+plain://"+up.Addr,
		"--rules", rules, "--users", users, "--tls-cert", certFile, "--tls-key", keyFile)

	// session connects with STARTTLS and authenticates; it returns the
	// certificate the relay showed and the configuration set the message
	// sent got.
	session := func(user, password string) ([]byte, string) {
		t.Helper()
		c, err := smtp.DialStartTLS(p.addr, &tls.Config{InsecureSkipVerify: true}) // the test compares the certificate
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Auth(sasl.NewPlainClient("", user, password)); err != nil {
			t.Fatalf("AUTH %s: %v", user, err)
		}
		st, _ := c.TLSConnectionState()
		if err := c.SendMail("a@example.com", []string{"b@example.org"}, strings.NewReader("Subject: s\r\n\r\nb\r\n")); err != nil {
			t.Fatal(err)
		}
		m := up.Messages()
		got, _, _ := strings.Cut(strings.TrimPrefix(string(m[len(m)-1].Data), "X-SES-CONFIGURATION-SET: "), "\r\n")
		return st.PeerCertificates[0].Raw, got
	}
	type reloadLine struct {
		Msg      string
		Reloaded []string
		Failed   map[string]string
	}
	next := func() reloadLine {
		t.Helper()
		l := p.next("reload")
		var v reloadLine
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		slices.Sort(v.Reloaded)
		return v
	}
	if cert, cs := session("app", "s3cret"); !bytes.Equal(cert, der(certA)) || cs != "one" {
		t.Fatalf("at start: certificate A %v, configuration set %q (want one)", bytes.Equal(cert, der(certA)), cs)
	}

	write(certFile, []byte("-----BEGIN CERTIFICATE-----\ngarbage\n"))
	write(users, []byte(userLine("app", "s3cret")+userLine("ops", "pw2")))
	write(rules, []byte("[default]\nconfig_set = \"two\"\n"))
	p.signal(syscall.SIGHUP)
	l := next()
	const certItem = "listener smtp certificate"
	if !slices.Equal(l.Reloaded, []string{"rules", "users"}) || len(l.Failed) != 1 || !strings.Contains(l.Failed[certItem], "cert.pem") {
		t.Errorf("reload with a bad certificate: reloaded %q, failed %q; want rules and users reloaded, the certificate failed naming its file", l.Reloaded, l.Failed)
	}
	if !strings.Contains(l.Msg, "certificate not reloaded, the old one stays") || !strings.Contains(l.Msg, "users reloaded from "+users+": 2 users") {
		t.Errorf("reload line's msg: %q", l.Msg)
	}
	if cert, cs := session("ops", "pw2"); !bytes.Equal(cert, der(certA)) || cs != "two" {
		t.Errorf("after the reload with a bad certificate: certificate A %v (want the old one), configuration set %q (want two)", bytes.Equal(cert, der(certA)), cs)
	}

	copyFile(certFile, certB.CertFile)
	copyFile(keyFile, certB.KeyFile)
	p.signal(syscall.SIGHUP)
	if l := next(); !slices.Equal(l.Reloaded, []string{certItem, "rules", "users"}) || l.Failed != nil {
		t.Errorf("reload with certificate B: reloaded %q, failed %q; want everything reloaded", l.Reloaded, l.Failed)
	}
	if cert, _ := session("app", "s3cret"); !bytes.Equal(cert, der(certB)) {
		t.Error("after the reload with certificate B a new connection does not get it")
	}
	p.signal(syscall.SIGTERM)
	p.wait()
}
