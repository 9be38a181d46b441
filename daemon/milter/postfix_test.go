package milter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sesmime/sesmime"
	"github.com/sesmime/sesmime/daemon/internal/postfixtest"
	"github.com/sesmime/sesmime/daemon/internal/smtpsink"
	"github.com/sesmime/sesmime/parse"
	"github.com/sesmime/sesmime/rules"
)

const postfixRules = `
[default]
config_set = "corpus"
tags = { source = "postfix", run = "milter" }
`

// TestPostfix sends the messages of testdata/postfix and of the corpus
// named by SESMIME_CORPUS through two private Postfix instances, one
// without the milter and one with it (smtpd_milters and
// non_smtpd_milters), and checks that every message through the milter is
// what the library's rewrite makes of the same message through Postfix
// alone, up to Postfix's queue IDs and dates: the SES fields exactly once
// with the values, everything else as Postfix passes it. A message the
// milter refuses must be one the library refuses. The independent checker
// in ../shared/verify judges the pairs too, when python3 is there.
func TestPostfix(t *testing.T) {
	if err := postfixtest.Available(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	msgs := loadMessages(t)
	set, err := rules.Parse("postfix.toml", []byte(postfixRules))
	if err != nil {
		t.Fatal(err)
	}
	d, err := set.Evaluate(&rules.Envelope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := d.Options()
	addr := startServer(t, &Config{Rules: func() *rules.Set { return set }})

	sinkA, sinkB := smtpsink.Start(t, nil), smtpsink.Start(t, nil)
	pfA := postfixtest.Start(t, &postfixtest.Options{RelayHost: sinkA.Addr})
	pfB := postfixtest.Start(t, &postfixtest.Options{RelayHost: sinkB.Addr,
		SMTPDMilters: "inet:" + addr, NonSMTPDMilters: "inet:" + addr})

	t0 := time.Now()
	var errsA, errsB []error
	var wg sync.WaitGroup
	wg.Go(func() { errsA = deliver(t, pfA.Addr, msgs) })
	wg.Go(func() { errsB = deliver(t, pfB.Addr, msgs) })
	wg.Wait()
	// The non-SMTP path (sendmail, pickup) goes through non_smtpd_milters.
	viaSendmail := []byte("From: a@x.test\nSubject: via sendmail\nX-SES-CONFIGURATION-SET: client\n\nbody\n")
	if err := pfB.Sendmail("a@x.test", []string{"sendmail@dest.test"}, viaSendmail); err != nil {
		t.Fatal(err)
	}
	nA, nB := 0, 1
	for i := range msgs {
		if errsA[i] == nil {
			nA++
		}
		if errsB[i] == nil {
			nB++
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	gotA, err := sinkA.Wait(ctx, nA)
	if err != nil {
		t.Fatalf("without the milter: %v: %d of %d arrived", err, len(gotA), nA)
	}
	gotB, err := sinkB.Wait(ctx, nB)
	if err != nil {
		t.Fatalf("with the milter: %v: %d of %d arrived", err, len(gotB), nB)
	}
	t.Logf("sent and delivered in %v", time.Since(t0).Round(time.Millisecond))
	byRcpt := func(ms []smtpsink.Message) map[string][]byte {
		out := map[string][]byte{}
		for _, m := range ms {
			for _, r := range m.To {
				if _, dup := out[r]; dup {
					t.Errorf("%s arrived twice", r)
				}
				out[r] = m.Data
			}
		}
		return out
	}
	a, b := byRcpt(gotA), byRcpt(gotB)

	if m := b["sendmail@dest.test"]; !bytes.Contains(m, []byte("\r\nX-SES-CONFIGURATION-SET: corpus\r\n")) || bytes.Contains(m, []byte("client")) {
		t.Errorf("message through sendmail (non_smtpd_milters) not rewritten:\n%s", m)
	}

	var same, refused, refusedLong, refusedPostfix int
	var pairs []pair
	for i, m := range msgs {
		rcpt := rcptFor(i)
		if errsA[i] != nil {
			// Postfix's own refusals (e.g. "too many hops") must be the same with the milter.
			if fmt.Sprint(errsA[i]) != fmt.Sprint(errsB[i]) {
				t.Errorf("%s: refused by Postfix without the milter (%v), with it: %v", m.name, errsA[i], errsB[i])
			}
			refusedPostfix++
			continue
		}
		want, libErr := sesmime.RewriteBytes(a[rcpt], opts)
		if errsB[i] != nil {
			se, ok := errors.AsType[*smtp.SMTPError](errsB[i])
			if ok && se.Code == 451 && strings.Contains(se.Message, "which Postfix may cut when a milter is attached") {
				t.Logf("%s: refused: %s", m.name, se.Message)
				refusedLong++
				continue
			}
			if libErr == nil || !ok || se.Code != 451 {
				t.Errorf("%s: refused with the milter (%v); the library: %v", m.name, errsB[i], libErr)
				continue
			}
			refused++
			continue
		}
		if libErr != nil {
			t.Errorf("%s: passed the milter, but the library refuses it: %v", m.name, libErr)
			continue
		}
		got := b[rcpt]
		normGot, normWant := normalize(got), normalize(want)
		if !bytes.Equal(normGot, normWant) {
			t.Errorf("%s: with the milter it is not the library's rewrite of the message without it:\n--- library\n%s\n--- milter\n%s", m.name, head(normWant), head(normGot))
			continue
		}
		info, err := parse.Inspect(bytes.NewReader(got), nil)
		if err != nil {
			t.Errorf("%s: reading the SES fields: %v", m.name, err)
			continue
		}
		hdr := got[:len(got)-len(bodyOf(got))]
		if info.ConfigurationSet != "corpus" || fmt.Sprint(info.Tags) != "[source=postfix run=milter]" ||
			bytes.Count(hdr, []byte("\nX-SES-CONFIGURATION-SET:"))+bytes.Count(hdr[:min(len(hdr), 24)], []byte("X-SES-CONFIGURATION-SET:")) != 1 ||
			bytes.Count(hdr, []byte("\nX-SES-MESSAGE-TAGS:"))+bytes.Count(hdr[:min(len(hdr), 24)], []byte("X-SES-MESSAGE-TAGS:")) != 1 {
			t.Errorf("%s: SES fields %q %v, want corpus once and [source=postfix run=milter]", m.name, info.ConfigurationSet, info.Tags)
			continue
		}
		same++
		pairs = append(pairs, pair{m.name, normalize(a[rcpt]), normGot})
	}
	t.Logf("%d messages: %d arrive with exactly the library's SES fields and otherwise as Postfix alone passes them; "+
		"%d refused (451) by the milter and by the library; %d refused (451) for a field Postfix would cut; %d refused by Postfix itself, with or without the milter",
		len(msgs), same, refused, refusedLong, refusedPostfix)
	t1 := time.Now()
	checkIndependently(t, pairs)
	t.Logf("independent check took %v", time.Since(t1).Round(time.Millisecond))
}

type testMessage struct {
	name string
	data []byte
}

func loadMessages(t *testing.T) []testMessage {
	t.Helper()
	paths, _ := filepath.Glob("testdata/postfix/*.eml")
	if dir := os.Getenv("SESMIME_CORPUS"); dir != "" {
		if !filepath.IsAbs(dir) {
			// The variable is relative to the repository root; tests run in daemon/milter.
			dir = filepath.Join("..", "..", dir)
		}
		more, err := filepath.Glob(filepath.Join(dir, "*.eml"))
		if err != nil || len(more) == 0 {
			t.Fatalf("SESMIME_CORPUS=%s: no *.eml files (%v)", os.Getenv("SESMIME_CORPUS"), err)
		}
		paths = append(paths, more...)
	} else {
		t.Log("SESMIME_CORPUS not set: testdata/postfix only")
	}
	var ms []testMessage
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, testMessage{filepath.Base(p), data})
	}
	return ms
}

func rcptFor(i int) string { return fmt.Sprintf("m%04d@dest.test", i) }

// deliver sends every message to addr over 4 SMTP sessions, each to its
// own recipient, and returns each message's DATA error.
func deliver(t *testing.T, addr string, msgs []testMessage) []error {
	errs := make([]error, len(msgs))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			c, err := smtp.Dial(addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			if err := c.Hello("client.test"); err != nil {
				t.Error(err)
				return
			}
			for i := w; i < len(msgs); i += 4 {
				errs[i] = sendOne(c, rcptFor(i), msgs[i].data)
				if errs[i] != nil {
					c.Reset()
				}
			}
			c.Quit()
		})
	}
	wg.Wait()
	return errs
}

func sendOne(c *smtp.Client, rcpt string, data []byte) error {
	if err := c.Mail("sender@corpus.test", nil); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

var (
	queueIDs = regexp.MustCompile(`\bid [0-9A-F]{6,16}\b`)
	msgIDs   = regexp.MustCompile(`<\d{14}\.[0-9A-F]{6,16}@postfix\.test>`)
	dates    = regexp.MustCompile(`[A-Z][a-z]{2}, [ 0-9]\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000 \(UTC\)`)
)

// normalize replaces what differs between two Postfix runs of one
// message: queue IDs (in Received: and generated Message-ID:) and
// Postfix's own dates.
// Only the header is touched (Postfix writes these only there); the body
// stays as it arrived.
func normalize(b []byte) []byte {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(b)
	}
	h := queueIDs.ReplaceAll(b[:end], []byte("id QUEUEID"))
	h = msgIDs.ReplaceAll(h, []byte("<MESSAGEID@postfix.test>"))
	h = dates.ReplaceAll(h, []byte("DATE"))
	return append(h, b[end:]...)
}

// bodyOf returns the empty line that ends the header and what follows.
func bodyOf(b []byte) []byte {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return b[i+2:]
	}
	return nil
}

func head(b []byte) []byte {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 && i < 4000 {
		return b[:i]
	}
	return b[:min(len(b), 4000)]
}

type pair struct {
	name          string
	without, with []byte
}

// checkIndependently runs ../shared/verify/check_inject.py over the pairs
// (the message through Postfix alone, and through the milter).
func checkIndependently(t *testing.T, pairs []pair) {
	checker, err := filepath.Abs("../../../shared/verify/check_inject.py")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(checker); err != nil {
		t.Logf("independent checker not run: %v", err)
		return
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Log("independent checker not run: no python3")
		return
	}
	dir := t.TempDir()
	var list bytes.Buffer
	for i, p := range pairs {
		a, b := filepath.Join(dir, fmt.Sprintf("%d.a", i)), filepath.Join(dir, fmt.Sprintf("%d.b", i))
		if err := os.WriteFile(a, p.without, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(b, p.with, 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&list, "%d\x00%s\x00%s\x00", i, a, b)
	}
	listFile, outDir := filepath.Join(dir, "list"), filepath.Join(dir, "out")
	if err := os.WriteFile(listFile, list.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", checker, "--batch", listFile, "--batch-out", outDir,
		"--config-set", "corpus", "--tag", "source=postfix", "--tag", "run=milter", "--mode", "replace")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("check_inject.py: %v: %s", err, out)
	}
	failed, _ := filepath.Glob(filepath.Join(outDir, "*.failed"))
	passed, _ := filepath.Glob(filepath.Join(outDir, "*.passed"))
	slices.Sort(failed)
	for _, f := range failed {
		why, _ := os.ReadFile(f)
		var i int
		fmt.Sscanf(filepath.Base(f), "%d", &i)
		t.Errorf("check_inject.py: %s: %s", pairs[i].name, strings.TrimSpace(string(why)))
	}
	t.Logf("check_inject.py: %d passed, %d failed", len(passed), len(failed))
}
