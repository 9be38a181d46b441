package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sesmime/sesmime/daemon/internal/fakesmtp"
)

// TestSMTPPassword checks the derivation against an implementation in
// Python's standard library, following the steps in AWS's documentation.
func TestSMTPPassword(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	var out, errb bytes.Buffer
	if code := run([]string{"smtp-password", "--region", "eu-west-1"}, strings.NewReader(secret+"\n"), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	script := `
import hmac, hashlib, base64, sys
def s(k, m): return hmac.new(k, m.encode(), hashlib.sha256).digest()
sig = s(("AWS4" + sys.argv[1]).encode(), "11111111")
for m in (sys.argv[2], "ses", "aws4_request", "SendRawEmail"): sig = s(sig, m)
print(base64.b64encode(bytes([4]) + sig).decode())
`
	want, err := exec.Command(py, "-c", script, secret, "eu-west-1").Output()
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("smtp-password = %q, python says %q", out.String(), want)
	}
}

// TestSignals runs the command: SIGHUP with a broken rules file keeps the
// old rules, with a good one switches to them, and SIGTERM stops it with a
// clean exit.
func TestSignals(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "sesmime-relay")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	c, err := fakesmtp.NewCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	up, err := fakesmtp.New(c)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	up.Plain = true
	rules := filepath.Join(dir, "rules.toml")
	os.WriteFile(rules, []byte("[default]\nconfig_set = \"one\"\n"), 0o644)
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--upstream", "smtp+plain://"+up.Addr, "--rules", rules)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(event string) string {
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("output ended waiting for %s", event)
				}
				if strings.Contains(l, `"event":"`+event+`"`) {
					return l
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("no %s line", event)
			}
		}
	}
	start := next("start")
	addr := strings.TrimSuffix(strings.Fields(strings.SplitN(start, "listening on ", 2)[1])[0], ",")
	sendOne := func() string {
		cl, err := smtp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if err := cl.SendMail("a@example.com", []string{"b@example.org"}, strings.NewReader("Subject: s\r\n\r\nb\r\n")); err != nil {
			t.Fatal(err)
		}
		m := up.Messages()
		return string(m[len(m)-1].Data)
	}
	if got := sendOne(); !strings.HasPrefix(got, "X-SES-CONFIGURATION-SET: one\r\n") {
		t.Errorf("before reload: %q", got)
	}
	os.WriteFile(rules, []byte("[default]\nconfig_set = \"bad name\"\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	if l := next("reload"); !strings.Contains(l, "old rules stay") || !strings.Contains(l, "rules.toml:2") {
		t.Errorf("bad reload line: %s", l)
	}
	if got := sendOne(); !strings.HasPrefix(got, "X-SES-CONFIGURATION-SET: one\r\n") {
		t.Errorf("after a bad reload: %q", got)
	}
	os.WriteFile(rules, []byte("[default]\nconfig_set = \"two\"\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	if l := next("reload"); !strings.Contains(l, "rules reloaded") {
		t.Errorf("reload line: %s", l)
	}
	if got := sendOne(); !strings.HasPrefix(got, "X-SES-CONFIGURATION-SET: two\r\n") {
		t.Errorf("after reload: %q", got)
	}
	if l := next("message"); !strings.Contains(l, `"config_set":"two"`) || !strings.Contains(l, `"message_id":"0100019a-fake-smtp-000003"`) {
		t.Errorf("last message's log line: %s", l)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	next("stop")
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

func TestExplain(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.toml")
	os.WriteFile(rules, []byte("[[rule]]\nname = \"eu\"\nrcpt_to = \"*@eu.example.com\"\nheader = { X-Campaign = \"*\" }\nconfig_set = \"eu\"\ntag_from_header = { campaign = \"X-Campaign\" }\n\n[default]\nconfig_set = \"world\"\n"), 0o644)
	msg := "X-Campaign: spring\r\nSubject: hi\r\n\r\nbody\r\n"
	var out, errb bytes.Buffer
	code := run([]string{"explain", "--rules", rules, "--mail-from", "a@example.com", "--rcpt-to", "x@eu.example.com", "--rcpt-to", "y@example.net"}, strings.NewReader(msg), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := "transaction 1 (the relay answers 452 4.5.3 to these recipients in the first one's transaction):\n" +
		"recipients: x@eu.example.com\nrule: rule 1 \"eu\" (" + rules + ":1)\nconfig_set: eu\ntags (replace): campaign=spring\nheaders: (unchanged)\nstrip_client_ses: false\n" +
		"transaction 2 (the relay answers 452 4.5.3 to these recipients in the first one's transaction):\n" +
		"recipients: y@example.net\nrule: default\nconfig_set: world\ntags (replace): (unchanged)\nheaders: (unchanged)\nstrip_client_ses: false\n"
	if out.String() != want {
		t.Errorf("explain printed\n%s\nwant\n%s", out.String(), want)
	}
	os.WriteFile(rules, []byte("[default]\nconfig_set = \"a b\"\n"), 0o644)
	errb.Reset()
	if code := run([]string{"explain", "--rules", rules}, strings.NewReader(msg), &out, &errb); code != 1 || !strings.Contains(errb.String(), "rules.toml:2:14") {
		t.Errorf("bad rules: exit %d, %q", code, errb.String())
	}
}
