package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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
	bin := buildRelay(t)
	dir := t.TempDir()
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
	p := startRelayProc(t, bin, "--listen", "127.0.0.1:0", "--upstream", "smtp+plain://"+up.Addr, "--rules", rules)
	sendOne := func() string {
		if err := sendMail(p.addr, "Subject: s\r\n\r\nb\r\n"); err != nil {
			t.Fatal(err)
		}
		m := up.Messages()
		return string(m[len(m)-1].Data)
	}
	if got := sendOne(); !strings.HasPrefix(got, "X-SES-CONFIGURATION-SET: one\r\n") {
		t.Errorf("before reload: %q", got)
	}
	os.WriteFile(rules, []byte("[default]\nconfig_set = \"bad name\"\n"), 0o644)
	p.signal(syscall.SIGHUP)
	if l := p.next("reload"); !strings.Contains(l, "old rules stay") || !strings.Contains(l, "rules.toml:2") {
		t.Errorf("bad reload line: %s", l)
	}
	if got := sendOne(); !strings.HasPrefix(got, "X-SES-CONFIGURATION-SET: one\r\n") {
		t.Errorf("after a bad reload: %q", got)
	}
	os.WriteFile(rules, []byte("[default]\nconfig_set = \"two\"\n"), 0o644)
	p.signal(syscall.SIGHUP)
	if l := p.next("reload"); !strings.Contains(l, "rules reloaded") {
		t.Errorf("reload line: %s", l)
	}
	if got := sendOne(); !strings.HasPrefix(got, "X-SES-CONFIGURATION-SET: two\r\n") {
		t.Errorf("after reload: %q", got)
	}
	if l := p.next("message"); !strings.Contains(l, `"config_set":"two"`) || !strings.Contains(l, `"message_id":"0100019a-fake-smtp-000003"`) {
		t.Errorf("last message's log line: %s", l)
	}
	p.signal(syscall.SIGTERM)
	p.wait()
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildRelay builds the command once for the whole test binary.
func buildRelay(t *testing.T) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sesmime-relay-test")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "sesmime-relay")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// relayProc is a running sesmime-relay and its JSON log lines.
type relayProc struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines chan string
	addr  string // the first listener's
	done  bool
}

func startRelayProc(t *testing.T, bin string, args ...string) *relayProc {
	p := &relayProc{t: t, cmd: exec.Command(bin, args...), lines: make(chan string, 100)}
	stdout, _ := p.cmd.StdoutPipe()
	p.cmd.Stderr = os.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !p.done {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	start := p.next("start")
	p.addr = strings.TrimSuffix(strings.Fields(strings.SplitN(start, "listening on ", 2)[1])[0], ",")
	return p
}

// next returns the next log line of event, skipping others.
func (p *relayProc) next(event string) string {
	p.t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("output ended waiting for %s", event)
			}
			if strings.Contains(l, `"event":"`+event+`"`) {
				return l
			}
		case <-timeout:
			p.t.Fatalf("no %s line", event)
		}
	}
}

func (p *relayProc) signal(s os.Signal) { p.cmd.Process.Signal(s) }

// wait waits for the "stop" line and a clean exit.
func (p *relayProc) wait() {
	p.t.Helper()
	p.next("stop")
	p.done = true
	if err := p.cmd.Wait(); err != nil {
		p.t.Errorf("exit: %v", err)
	}
}

// TestHelp: --help shows the relay's and the subcommands' forms and the
// flags, and exits 0 (a request for help is not a usage error); a flag
// that does not exist is one (2).
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"smtp-password", "--help"}, {"explain", "-h"}} {
		var out, errb bytes.Buffer
		if code := run(args, strings.NewReader(""), &out, &errb); code != 0 {
			t.Errorf("%q: exit %d, want 0; stderr %q", args, code, errb.String())
		}
		if args[0] == "--help" {
			for _, want := range []string{"sesmime-relay smtp-password --region REGION", "sesmime-relay explain --rules FILE", "-upstream URL", "-lmtp-listen ADDR"} {
				if !strings.Contains(errb.String(), want) {
					t.Errorf("--help does not show %q:\n%s", want, errb.String())
				}
			}
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"--no-such-flag"}, strings.NewReader(""), &out, &errb); code != 2 {
		t.Errorf("--no-such-flag: exit %d, want 2", code)
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
	want := "transaction 1:\n" +
		"recipients: x@eu.example.com\nrule: rule 1 \"eu\" (" + rules + ":1)\nconfig_set: eu\ntags (replace): campaign=spring\nheaders: (unchanged)\nstrip_client_ses: false\n" +
		"transaction 2 (the relay answers 452 4.5.3 to these recipients in the transactions before):\n" +
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
