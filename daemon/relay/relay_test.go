package relay

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const simple = "From: a@example.com\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nbody\r\n"

func TestSMTPUpstreamBasic(t *testing.T) {
	up := fakeSMTP(t)
	cfg := smtpConfig(t, up)
	cfg.ConfigSet = "main"
	r, log := startRelay(t, cfg)
	reply, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple)
	if err != nil {
		t.Fatal(err)
	}
	msgs := up.Messages()
	if len(msgs) != 1 {
		t.Fatalf("upstream got %d messages, want 1", len(msgs))
	}
	if want := "X-SES-CONFIGURATION-SET: main\r\n" + simple; string(msgs[0].Data) != want {
		t.Errorf("upstream got %q, want %q", msgs[0].Data, want)
	}
	if !strings.Contains(reply, msgs[0].ID) {
		t.Errorf("reply %q does not echo the upstream's id %s", reply, msgs[0].ID)
	}
	if !strings.Contains(log.String(), `"message_id":"`+msgs[0].ID) {
		t.Errorf("log has no line with the message id:\n%s", log)
	}
	if n := r.MemoryInUse(); n != 0 {
		t.Errorf("%d bytes still held after the message (the memory budget leaks)", n)
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
