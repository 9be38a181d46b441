package ops

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesmime/sesmime"
)

func TestRulesReloadKeepsOldOnError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rules.toml")
	os.WriteFile(p, []byte("[default]\nconfig_set = \"one\"\n"), 0o644)
	rs, err := LoadRules(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, []byte("[default]\nconfig_set = \"bad set\"\n"), 0o644)
	if err := rs.Reload(); err == nil || !strings.Contains(err.Error(), "rules.toml:2") {
		t.Errorf("Reload of a bad file = %v, want a file:line error", err)
	}
	if cs := rs.Get().Default().ConfigurationSet; cs != "one" {
		t.Errorf("after a bad reload the default is %q, want the old %q", cs, "one")
	}
	os.WriteFile(p, []byte("[default]\nconfig_set = \"two\"\n"), 0o644)
	if err := rs.Reload(); err != nil {
		t.Fatal(err)
	}
	if cs := rs.Get().Default().ConfigurationSet; cs != "two" {
		t.Errorf("after reload %q, want two", cs)
	}
}

// TestDefaultsOnReload checks that command-line defaults apply to each
// loaded set: a reload keeps them and takes the rest of the file's new
// [default].
func TestDefaultsOnReload(t *testing.T) {
	tests := []struct {
		name      string
		configSet string
		tags      []sesmime.Tag
		wantSet   string
		wantTags  string
	}{
		{name: "none", wantSet: "two", wantTags: "[f=2]"},
		{name: "config set", configSet: "flag", wantSet: "flag", wantTags: "[f=2]"},
		{name: "tags", tags: []sesmime.Tag{{Name: "a", Value: "b"}}, wantSet: "two", wantTags: "[a=b]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "rules.toml")
			os.WriteFile(p, []byte("[default]\nconfig_set = \"one\"\ntags = { f = \"1\" }\n"), 0o644)
			rs, err := LoadRules(p, Defaults(tc.configSet, tc.tags))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(p, []byte("[default]\nconfig_set = \"two\"\ntags = { f = \"2\" }\n"), 0o644)
			if err := rs.Reload(); err != nil {
				t.Fatal(err)
			}
			d := rs.Get().Default()
			if got := fmt.Sprint(d.Tags); d.ConfigurationSet != tc.wantSet || got != tc.wantTags {
				t.Errorf("after reload: config set %q, tags %s; want %q, %s", d.ConfigurationSet, got, tc.wantSet, tc.wantTags)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	m := NewMetrics("test")
	var h Health
	srv := httptest.NewServer(Handler(m, &h))
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if c, _ := get("/healthz"); c != 200 {
		t.Errorf("/healthz %d", c)
	}
	if c, _ := get("/readyz"); c != 503 {
		t.Errorf("/readyz before ready: %d, want 503", c)
	}
	h.SetReady(true)
	if c, _ := get("/readyz"); c != 200 {
		t.Errorf("/readyz when ready: %d", c)
	}
	m.Observe(&Record{Result: Accepted, Code: "250", Bytes: 10, Rule: "default", Upstream: time.Millisecond})
	if _, body := get("/metrics"); !strings.Contains(body, `test_messages_total{code="250",result="accepted"} 1`) ||
		!strings.Contains(body, `test_rule_hits_total{rule="default"} 1`) {
		t.Errorf("/metrics lacks the message:\n%s", body)
	}
}

func TestLogLine(t *testing.T) {
	var b bytes.Buffer
	l := NewLog(&b)
	l.Message(&Record{Result: Accepted, Code: "250", MessageID: "id-1", ConfigSet: "cs", Tags: []string{"a=b"}, Upstream: 1500 * time.Microsecond})
	var v map[string]any
	if err := json.Unmarshal(b.Bytes(), &v); err != nil {
		t.Fatalf("%v: %q", err, b.String())
	}
	if v["event"] != "message" || v["message_id"] != "id-1" || v["config_set"] != "cs" || v["upstream_ms"] != 1.5 {
		t.Errorf("log line %s", b.String())
	}
}

type fakeReloader []Reloaded

func (f fakeReloader) ReloadAll() []Reloaded { return f }

// TestReload: one reload line per reload, with each item's outcome in msg,
// reloaded and failed, and each item counted by its own metric.
func TestReload(t *testing.T) {
	items := fakeReloader{
		{What: ReloadRules, Msg: "rules reloaded"},
		{What: ReloadCert, Listener: "submission", Msg: "cert not reloaded", Err: errors.New("bad PEM")},
		{What: ReloadCert, Listener: "local", Msg: "cert reloaded"},
		{What: ReloadUsers, Msg: "users not reloaded", Err: errors.New("users:2: want name:bcrypt-hash")},
	}
	var b bytes.Buffer
	m := NewMetrics("test")
	Reload(items, NewLog(&b), m)
	var v struct {
		Event, Msg string
		Reloaded   []string
		Failed     map[string]string
	}
	if err := json.Unmarshal(b.Bytes(), &v); err != nil || strings.Count(b.String(), "\n") != 1 {
		t.Fatalf("want one JSON line: %v: %q", err, b.String())
	}
	if v.Event != "reload" || v.Msg != "rules reloaded; cert not reloaded; cert reloaded; users not reloaded" ||
		fmt.Sprint(v.Reloaded) != "[rules listener local certificate]" ||
		fmt.Sprint(v.Failed) != "map[listener submission certificate:bad PEM users:users:2: want name:bcrypt-hash]" {
		t.Errorf("reload line %s", b.String())
	}
	srv := httptest.NewServer(Handler(m, &Health{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	for _, want := range []string{
		`test_rules_reloads_total{result="ok"} 1`,
		`test_cert_reloads_total{listener="submission",result="error"} 1`,
		`test_cert_reloads_total{listener="local",result="ok"} 1`,
		`test_users_reloads_total{result="error"} 1`,
	} {
		if !strings.Contains(body.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
