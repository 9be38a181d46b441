package relay

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sesmime/sesmime/awsses/fakeses"
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

// TestCorpus relays every message of the public corpus through each
// upstream and checks each arrival with the independent checker
// (../shared/verify/check_inject.py): byte-exact but for the managed
// fields, and exactly once.
//
//   - smtp: the message as a real SMTP client puts it into DATA (net/textproto's
//     dot writer, which go-smtp's and net/smtp's clients use: a bare LF becomes
//     CRLF), so every message is CRLF-clean and must pass.
//   - smtp-as-is: the file's own bytes; the SMTP upstream cannot pass a bare
//     LF unchanged, so each such message must be refused with a 554 naming
//     it (normalize_line_endings off, the default).
//   - ses+v1, ses+v2: the file's own bytes, which the API upstreams keep.
//     For v2 the configuration set and tags travel as API parameters and the
//     raw message keeps no managed field: the checker compares it with the
//     original with nothing managed, and the parameters are checked here.
//
// Lines longer than max_line_length (2000) are refused with a permanent 500
// 5.5.2 by every upstream: SES takes lines of at most 1000 bytes through SMTP
// and through both APIs (SES.md, "Limits SES enforces"), so such a message
// could never be delivered; lines between 1000 and 2000 bytes go upstream,
// for SES to judge. A header sesmime refuses is refused the same way by
// every upstream.
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
	const maxLine = 2000               // the default max_line_length
	refusedBy := map[string][]string{} // upstream -> files refused for their header
	for _, kind := range []string{upSMTP, upSMTPPlain, "smtp-as-is", upSESv1, upSESv2} {
		t.Run(kind, func(t *testing.T) {
			var cfg *Config
			var got func() []arrival
			switch kind {
			case upSMTP, upSMTPPlain, "smtp-as-is":
				up := fakeSMTP(t)
				cfg = smtpConfig(t, up)
				if kind == upSMTPPlain { // the message goes around go-smtp's dot writer
					up.Plain = true
					cfg.Upstream, cfg.UpstreamUser, cfg.UpstreamPassword = "smtp+plain://"+up.Addr, "", ""
				}
				got = func() []arrival {
					var out []arrival
					for _, m := range up.Messages() {
						out = append(out, arrival{data: m.Data})
					}
					return out
				}
			default:
				api := fakeAPI(t)
				cfg = apiConfig(api, kind)
				cfg.Rate = 1e6
				got = func() []arrival {
					var out []arrival
					for _, r := range api.Requests() {
						out = append(out, arrival{data: r.Raw, req: &r})
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
			var accepted, refusedLF, refusedLong int
			var wantLF, wantLong int
			var refusedHeader []string
			for i, f := range files {
				msg, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				name := filepath.Base(f)
				if kind == upSMTP || kind == upSMTPPlain {
					msg = clientData(msg)
				}
				long := longestLine(msg) > maxLine
				bareLF := kind == "smtp-as-is" && hasBareLF(msg) && !long
				if long {
					wantLong++
				} else if bareLF {
					wantLF++
				}
				before := len(got())
				reply, sent := sendRaw(t, r.Addrs()[0], msg)
				arrived := got()[before:]
				switch {
				case long:
					if !strings.HasPrefix(reply, "500 5.5.2 Line too long") || len(arrived) != 0 {
						t.Errorf("%s: a line over %d bytes: reply %q with %d messages upstream, want 500 5.5.2 and none", name, maxLine, reply, len(arrived))
						continue
					}
					refusedLong++
				case bareLF:
					if !strings.HasPrefix(reply, "554 5.6.0") || len(arrived) != 0 {
						t.Errorf("%s: bare LF to the SMTP upstream: reply %q with %d messages upstream, want 554 5.6.0 naming the bare LF and none", name, reply, len(arrived))
						continue
					}
					if !strings.Contains(reply, "bare LF") {
						refusedHeader = append(refusedHeader, name) // the header check comes first
						continue
					}
					refusedLF++
				case strings.HasPrefix(reply, "250"):
					if len(arrived) != 1 {
						t.Errorf("%s: 250 but %d messages upstream", name, len(arrived))
						continue
					}
					a := arrived[0]
					if a.req != nil && kind == upSESv2 {
						if p := a.req.ConfigurationSetName; p != "corpus" {
							t.Errorf("%s: ConfigurationSetName %q, want corpus", name, p)
						}
						if want := []fakeses.Tag{{Name: "campaign", Value: "spring"}, {Name: "team", Value: "growth"}}; !slices.Equal(a.req.Tags, want) {
							t.Errorf("%s: EmailTags %v, want %v", name, a.req.Tags, want)
						}
					}
					accepted++
					orig := filepath.Join(work, fmt.Sprintf("%d.orig", i))
					out := filepath.Join(work, fmt.Sprintf("%d.out", i))
					os.WriteFile(orig, sent, 0o644)
					os.WriteFile(out, a.data, 0o644)
					fmt.Fprintf(&list, "%d\x00%s\x00%s\x00", i, orig, out)
				case strings.HasPrefix(reply, "554 5.6.0") && len(arrived) == 0:
					refusedHeader = append(refusedHeader, name)
				default:
					t.Errorf("%s: reply %q with %d messages upstream", name, reply, len(arrived))
				}
			}
			if refusedLong != wantLong || kind != "smtp-as-is" && refusedLF != wantLF || refusedLF+len(refusedHeader) < wantLF {
				t.Errorf("refused %d for long lines (want %d), %d for bare LF (want %d)", refusedLong, wantLong, refusedLF, wantLF)
			}
			refusedBy[kind] = refusedHeader
			args := []string{"--config-set", "corpus", "--tag", "campaign=spring", "--tag", "team=growth", "--mode", "replace"}
			if kind == upSESv2 {
				args = []string{"--mode", "replace"} // nothing managed in the raw message
			}
			passed := runChecker(t, checker, work, list.Bytes(), args)
			if passed != accepted {
				t.Errorf("checker passed %d of %d accepted", passed, accepted)
			}
			t.Logf("%s: %d messages: %d accepted, each arrived once and passed the checker; refused: %d for a line over %d bytes (500 5.5.2), %d for a bare LF (554 5.6.0), %d by sesmime's header checks (554 5.6.0: %s)",
				kind, len(files), accepted, refusedLong, maxLine, refusedLF, len(refusedHeader), strings.Join(refusedHeader, " "))
		})
	}
	// A header refusal does not depend on the upstream (as-is, a bare LF
	// may be what is refused first).
	for kind, names := range refusedBy {
		same := slices.Equal(names, refusedBy[upSESv1])
		if kind == "smtp-as-is" {
			same = !slices.ContainsFunc(names, func(n string) bool { return !slices.Contains(refusedBy[upSESv1], n) })
		}
		if !same {
			t.Errorf("%s refused the headers of %q, ses+v1 of %q", kind, names, refusedBy[upSESv1])
		}
	}
}

type arrival struct {
	data []byte
	req  *fakeses.Request
}

// runChecker runs the checker over a batch list and returns how many
// passed; each failure is a test error.
func runChecker(t *testing.T, checker, work string, list []byte, args []string) int {
	listFile := filepath.Join(work, "list")
	os.WriteFile(listFile, list, 0o644)
	outDir := filepath.Join(work, "results")
	os.Mkdir(outDir, 0o755)
	cmd := exec.Command("python3", append([]string{checker, "--batch", listFile, "--batch-out", outDir}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("checker: %v\n%s", err, out)
	}
	failed, _ := filepath.Glob(filepath.Join(outDir, "*.failed"))
	passed, _ := filepath.Glob(filepath.Join(outDir, "*.passed"))
	for _, f := range failed {
		b, _ := os.ReadFile(f)
		t.Errorf("checker failed %s:\n%s", f, b)
	}
	return len(passed)
}

// clientData is msg as an SMTP client sends it in DATA, before
// dot-stuffing: net/textproto's dot writer (under go-smtp's and net/smtp's
// clients) turns a bare LF into CRLF and ends the data with CRLF.
func clientData(msg []byte) []byte {
	wire := bytes.TrimSuffix(dataWire(nil, msg), []byte(".\r\n"))
	// Undo the dot-stuffing: a dot it added starts each line that began
	// with one.
	out := make([]byte, 0, len(wire))
	for i := 0; i < len(wire); i++ {
		if wire[i] == '.' && (i == 0 || wire[i-1] == '\n') {
			i++
		}
		if i < len(wire) {
			out = append(out, wire[i])
		}
	}
	return out
}

// dataWire is what follows DATA's 354 on the wire when writeData sends msg
// through net/textproto's dot writer, as go-smtp's client does, and data
// (nil: none) writes where the writer does.
func dataWire(data func(*bytes.Buffer) io.Writer, msg []byte) []byte {
	var b bytes.Buffer
	bw := bufio.NewWriter(&b)
	dw := textproto.NewWriter(bw).DotWriter()
	var direct io.Writer
	if data != nil {
		direct = data(&b)
	}
	writeData(direct, dw, msg)
	dw.Close()
	bw.Flush()
	return b.Bytes()
}

// longestLine is the length of msg's longest line, its LF included.
func longestLine(msg []byte) int {
	n := 0
	for line := range bytes.Lines(msg) {
		n = max(n, len(line))
	}
	return n
}

func hasBareLF(msg []byte) bool {
	for i, c := range msg {
		if c == '\n' && (i == 0 || msg[i-1] != '\r') {
			return true
		}
	}
	return false
}
