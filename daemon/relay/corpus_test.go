package relay

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// corpusDir is the public corpus (SESMIME_CORPUS, else the shared path).
func corpusDir(t *testing.T) string {
	dir := os.Getenv("SESMIME_CORPUS")
	if dir == "" {
		dir = "../../../shared/corpus/public"
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no corpus: %v", err)
	}
	return dir
}

// sendRaw sends msg over a fresh connection with only dot-stuffing, so
// the relay receives exactly msg (plus CRLF when msg does not end with
// one: DATA ends only at CRLF "." CRLF). It returns the DATA reply line.
func sendRaw(t *testing.T, addr string, msg []byte) (string, []byte) {
	s := dialRaw(t, addr)
	defer s.c.Close()
	s.cmd("EHLO test\r\n")
	if r := s.cmd("MAIL FROM:<sender@example.com>\r\n"); !strings.HasPrefix(r, "250") {
		return r, nil
	}
	if r := s.cmd("RCPT TO:<rcpt@example.org>\r\n"); !strings.HasPrefix(r, "250") {
		return r, nil
	}
	if r := s.cmd("DATA\r\n"); !strings.HasPrefix(r, "354") {
		return r, nil
	}
	sent := msg
	if !bytes.HasSuffix(sent, []byte("\r\n")) {
		sent = append(slices.Clip(sent), "\r\n"...)
	}
	var b bytes.Buffer
	// The server removes a dot only at the start of a CRLF line.
	for i, c := range sent {
		if c == '.' && (i == 0 || i >= 2 && sent[i-1] == '\n' && sent[i-2] == '\r') {
			b.WriteByte('.')
		}
		b.WriteByte(c)
	}
	b.WriteString(".\r\n")
	return s.cmd(b.String()), sent
}

// TestCorpus relays every message of the public corpus through the SMTP
// upstream and the SES v1 API and checks each arrival with the
// independent checker (../shared/verify/check_inject.py): byte-exact but
// for the managed fields, and exactly once. Messages the SMTP client cannot
// send unchanged (bare LF, CR CR LF) must be refused with a 554 instead,
// and messages whose header sesmime refuses must be refused the same way.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	checker, err := filepath.Abs("../../../shared/verify/check_inject.py")
	if err == nil {
		_, err = os.Stat(checker)
	}
	if err != nil {
		t.Skipf("no checker: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if testing.Short() && len(files) > 60 {
		files = files[:60]
	}
	for _, kind := range []string{upSMTP, upSESv1} {
		t.Run(kind, func(t *testing.T) {
			var cfg *Config
			var got func() [][]byte
			if kind == upSMTP {
				up := fakeSMTP(t)
				cfg = smtpConfig(t, up)
				got = func() [][]byte {
					var out [][]byte
					for _, m := range up.Messages() {
						out = append(out, m.Data)
					}
					return out
				}
			} else {
				api := fakeAPI(t)
				cfg = apiConfig(api, upSESv1)
				cfg.Rate = 1e6
				got = func() [][]byte {
					var out [][]byte
					for _, r := range api.Requests() {
						out = append(out, r.Raw)
					}
					return out
				}
			}
			cfg.ConfigSet = "corpus"
			cfg.Tags = []string{"campaign=spring", "team=growth"}
			cfg.MaxMessageBytes = 30 << 20
			r, _ := startRelay(t, cfg)
			work := t.TempDir()
			var list bytes.Buffer
			var accepted, refusedLF, refusedHeader, refusedLong int
			for i, f := range files {
				msg, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				before := len(got())
				reply, sent := sendRaw(t, r.Addrs()[0], msg)
				arrived := got()[before:]
				switch {
				case strings.HasPrefix(reply, "250"):
					if len(arrived) != 1 {
						t.Errorf("%s: 250 but %d messages upstream", filepath.Base(f), len(arrived))
						continue
					}
					accepted++
					orig := filepath.Join(work, fmt.Sprintf("%d.orig", i))
					out := filepath.Join(work, fmt.Sprintf("%d.out", i))
					os.WriteFile(orig, sent, 0o644)
					os.WriteFile(out, arrived[0], 0o644)
					fmt.Fprintf(&list, "%d\x00%s\x00%s\x00", i, orig, out)
				case strings.HasPrefix(reply, "554 5.6.0") && len(arrived) == 0:
					if _, ok := checkLineEndings(sent); !ok && kind == upSMTP && strings.Contains(reply, "bare LF") {
						refusedLF++
					} else {
						refusedHeader++
					}
				case strings.HasPrefix(reply, "500 5.5.2 Line too long") && len(arrived) == 0:
					refusedLong++ // over max_line_length (2000); SES takes 1000
				default:
					t.Errorf("%s: reply %q with %d messages upstream", filepath.Base(f), reply, len(arrived))
				}
			}
			listFile := filepath.Join(work, "list")
			os.WriteFile(listFile, list.Bytes(), 0o644)
			outDir := filepath.Join(work, "results")
			os.Mkdir(outDir, 0o755)
			cmd := exec.Command("python3", checker, "--batch", listFile, "--batch-out", outDir,
				"--config-set", "corpus", "--tag", "campaign=spring", "--tag", "team=growth", "--mode", "replace")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("checker: %v\n%s", err, out)
			}
			failed, _ := filepath.Glob(filepath.Join(outDir, "*.failed"))
			passed, _ := filepath.Glob(filepath.Join(outDir, "*.passed"))
			for _, f := range failed {
				b, _ := os.ReadFile(f)
				t.Errorf("checker failed %s:\n%s", f, b)
			}
			if len(passed) != accepted {
				t.Errorf("checker passed %d of %d accepted", len(passed), accepted)
			}
			t.Logf("%s: %d messages: %d accepted and checked byte-exact (%d passed), %d refused for bare LF / CR CR LF, %d refused by sesmime's header checks, %d refused for lines over 2000 bytes",
				kind, len(files), accepted, len(passed), refusedLF, refusedHeader, refusedLong)
		})
	}
}
