package relay

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataRefusals: what the relay answers when the rules or the rewrite
// refuse a message, and that nothing then goes upstream.
func TestDataRefusals(t *testing.T) {
	up := fakeSMTP(t)
	cfg := smtpConfig(t, up)
	cfg.Rules = filepath.Join(t.TempDir(), "rules.toml")
	err := os.WriteFile(cfg.Rules, []byte(`
[[rule]]
name = "blocked"
mail_from = ["spam@example.com"]
reject = "Sender blocked by policy"

[[rule]]
name = "campaign"
mail_from = ["news@example.com"]
tag_from_header = { campaign = "X-Campaign" }

[default]
config_set = "cs1"
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := startRelay(t, cfg)
	cases := []struct {
		name, from, msg, want string
	}{
		{"accepted", "a@example.com", simple, "250 "},
		{"rule reject", "spam@example.com", simple, "550 5.7.1 Sender blocked by policy"},
		{"tag value SES refuses", "news@example.com", "X-Campaign: spring sale!\r\n" + simple, "554 5.6.0 "},
		{"no header block", "a@example.com", "just a body line\r\n", "554 5.6.0 Message refused: line 1: no header block"},
		{"bare CR in a field", "a@example.com", "X-Note: a\rBcc: c@example.net\r\n" + simple, "554 5.6.0 Message refused: line 1"},
	}
	delivered := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := dialRaw(t, r.Addrs()[0])
			s.cmd("EHLO test\r\n")
			s.cmd("MAIL FROM:<" + tc.from + ">\r\n")
			s.cmd("RCPT TO:<b@example.org>\r\n")
			if got := s.cmd("DATA\r\n"); !strings.HasPrefix(got, "354") {
				t.Fatalf("DATA: %q", got)
			}
			got := s.cmd(tc.msg + ".\r\n")
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("reply %q, want %q...", got, tc.want)
			}
			if tc.want == "250 " {
				delivered++
			}
			if tc.name == "tag value SES refuses" && (strings.HasPrefix(got, "554 5.6.0 Message") || !strings.Contains(got, "X-Campaign")) {
				t.Errorf("reply %q: want the rules' own error, naming the field", got)
			}
			if n := len(up.Messages()); n != delivered {
				t.Errorf("%d messages upstream, want %d", n, delivered)
			}
		})
	}
}
