package relay

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesmime/sesmime/daemon/internal/fakesmtp"
)

const simple = "From: a@example.com\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nbody\r\n"

// TestSMTPUpstreamBasic: STARTTLS (smtp://) and implicit TLS (smtps://,
// where the message goes around go-smtp's dot writer over the TLS
// connection) deliver the message byte for byte, over TLS, once.
func TestSMTPUpstreamBasic(t *testing.T) {
	// Lines that start with a dot, the last one too: dot-stuffed on the
	// wire, unstuffed by the upstream.
	const dots = "Subject: dots\r\n\r\n.\r\n..two\r\nbody\r\n.last\r\n"
	for _, tc := range []struct {
		scheme string
		start  func(*fakesmtp.Cert) (*fakesmtp.Server, error)
	}{{"smtp", fakesmtp.New}, {"smtps", fakesmtp.NewTLS}} {
		t.Run(tc.scheme, func(t *testing.T) {
			up, err := tc.start(cert(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(up.Close)
			cfg := smtpConfig(t, up)
			cfg.Upstream = tc.scheme + "://" + up.Addr
			cfg.ConfigSet = "main"
			r, log := startRelay(t, cfg)
			var replies []string
			for _, msg := range []string{simple, dots} {
				reply, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, msg)
				if err != nil {
					t.Fatal(err)
				}
				replies = append(replies, reply)
			}
			msgs := up.Messages()
			if len(msgs) != 2 {
				t.Fatalf("upstream got %d messages, want 2", len(msgs))
			}
			for i, msg := range []string{simple, dots} {
				if want := "X-SES-CONFIGURATION-SET: main\r\n" + msg; string(msgs[i].Data) != want {
					t.Errorf("upstream got %q, want %q", msgs[i].Data, want)
				}
				if !msgs[i].TLS || msgs[i].User != up.User {
					t.Errorf("message %d: TLS %v, AUTH user %q: want TLS and %q", i, msgs[i].TLS, msgs[i].User, up.User)
				}
				if !strings.Contains(replies[i], msgs[i].ID) {
					t.Errorf("reply %q does not echo the upstream's id %s", replies[i], msgs[i].ID)
				}
				if !strings.Contains(log.String(), `"message_id":"`+msgs[i].ID) {
					t.Errorf("log has no line with the message id:\n%s", log)
				}
			}
			if n := r.MemoryInUse(); n != 0 {
				t.Errorf("%d bytes still held after the message (the memory budget leaks)", n)
			}
		})
	}
}

func TestAPIUpstreamBasic(t *testing.T) {
	for _, kind := range []string{upSESv2, upSESv1} {
		t.Run(kind, func(t *testing.T) {
			api := fakeAPI(t)
			cfg := apiConfig(api, kind)
			cfg.ConfigSet = "main"
			cfg.Tags = []string{"app=web"}
			r, _ := startRelay(t, cfg)
			reply, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple)
			if err != nil {
				t.Fatal(err)
			}
			reqs := api.Requests()
			if len(reqs) != 1 {
				t.Fatalf("SES got %d requests, want 1", len(reqs))
			}
			t.Logf("reply %q; request %+v", reply, reqs[0])
		})
	}
}

// TestReloadKeepsCommandLineDefaults: --tag (or --config-set) overrides
// only its own key of the rules' [default], and a reload takes the file's
// new default for the rest.
func TestReloadKeepsCommandLineDefaults(t *testing.T) {
	up := fakeSMTP(t)
	cfg := smtpConfig(t, up)
	cfg.Rules = filepath.Join(t.TempDir(), "rules.toml")
	cfg.Tags = []string{"src=cli"}
	write := func(cs string) {
		if err := os.WriteFile(cfg.Rules, []byte("[default]\nconfig_set = \""+cs+"\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("one")
	r, _ := startRelay(t, cfg)
	write("two")
	if err := r.Rules.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple); err != nil {
		t.Fatal(err)
	}
	msgs := up.Messages()
	if len(msgs) != 1 {
		t.Fatalf("upstream got %d messages, want 1", len(msgs))
	}
	want := "X-SES-CONFIGURATION-SET: two\r\nX-SES-MESSAGE-TAGS: src=cli\r\n" + simple
	if got := string(msgs[0].Data); got != want {
		t.Errorf("after the reload upstream got %q, want %q", got, want)
	}
}
