package milter

import (
	"bufio"
	"bytes"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dj "github.com/d--j/go-milter"
	"github.com/google/go-cmp/cmp"

	"github.com/sesmime/sesmime"
	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/mimeheaders"
	"github.com/sesmime/sesmime/rules"
)

// A message as an MTA sends it to the milter.
type message struct {
	from     string
	rcpts    []string
	auth     string
	listener string
	client   string // IPv4 address
	fields   []Field
}

// reply is what the milter answered at end of message.
type reply struct {
	edits []Edit
	act   *dj.Action
}

// startServer runs a Server for cfg on a loopback port.
func startServer(t *testing.T, cfg *Config) string {
	t.Helper()
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); s.Serve(l) }()
	t.Cleanup(func() { s.Close(); <-done })
	return l.Addr().String()
}

// offered is what Postfix 3.7 offers a milter.
const offered = dj.OptNoConnect | dj.OptNoHelo | dj.OptNoMailFrom | dj.OptNoRcptTo | dj.OptNoBody | dj.OptNoHeaders |
	dj.OptNoEOH | dj.OptNoUnknown | dj.OptNoData | dj.OptSkip | dj.OptRcptRej | dj.OptNoHeaderReply | dj.OptNoConnReply |
	dj.OptNoHeloReply | dj.OptNoMailReply | dj.OptNoRcptReply | dj.OptNoDataReply | dj.OptNoUnknownReply |
	dj.OptNoEOHReply | dj.OptNoBodyReply | dj.OptHeaderLeadingSpace

// send runs one message through the milter at addr as an MTA would and
// returns its end-of-message answer. leading says the MTA offers
// leading-space mode; without it the values are sent with one leading
// space dropped, as Postfix and Sendmail do.
func send(t *testing.T, addr string, leading bool, m message) reply {
	t.Helper()
	prot := offered
	if !leading {
		prot &^= dj.OptHeaderLeadingSpace
	}
	c := dj.NewClient("tcp", addr, dj.WithProtocols(prot),
		dj.WithMacroRequest(dj.StageConnect, []string{dj.MacroDaemonName}),
		dj.WithMacroRequest(dj.StageMail, []string{dj.MacroAuthAuthen, dj.MacroQueueId}),
		dj.WithMacroRequest(dj.StageEOM, []string{dj.MacroQueueId}))
	macros := dj.NewMacroBag()
	macros.Set(dj.MacroDaemonName, m.listener)
	macros.Set(dj.MacroAuthAuthen, m.auth)
	macros.Set(dj.MacroQueueId, "ABC123")
	s, err := c.Session(macros)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	client := m.client
	if client == "" {
		client = "192.0.2.1"
	}
	must := func(a *dj.Action, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if a.Type != dj.ActionContinue {
			t.Fatalf("milter answered %v before end of message", a)
		}
	}
	must(s.Conn("client.test", dj.FamilyInet, 25, client))
	must(s.Helo("client.test"))
	must(s.Mail(m.from, ""))
	for _, r := range m.rcpts {
		must(s.Rcpt(r, ""))
	}
	must(s.DataStart())
	for _, f := range m.fields {
		v := f.Value
		if !leading {
			v = strings.TrimPrefix(v, " ")
		}
		must(s.HeaderField(f.Name, v, nil))
	}
	must(s.HeaderEnd())
	mods, act, err := s.BodyReadFrom(strings.NewReader("body\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	var r reply
	r.act = act
	for _, ma := range mods {
		e := Edit{Index: int(ma.HeaderIndex), Name: ma.HeaderName, Value: ma.HeaderValue}
		switch {
		case ma.Type == dj.ActionInsertHeader:
			e.Op = Insert
		case ma.Type == dj.ActionChangeHeader && ma.HeaderValue == "":
			e.Op = Delete
		case ma.Type == dj.ActionChangeHeader:
			e.Op = Change
		default:
			t.Fatalf("unexpected modification %v", ma)
		}
		if !leading && e.Op != Delete {
			// The MTA writes "Name: value" when it did not offer leading space.
			e.Value = " " + e.Value
		}
		r.edits = append(r.edits, e)
	}
	return r
}

// libraryHeader is what the library's rewrite makes of fields.
func libraryHeader(t *testing.T, fields []Field, opts *inject.Options) []Field {
	t.Helper()
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f.Name + ":" + strings.ReplaceAll(f.Value, "\n", "\r\n") + "\r\n")
	}
	b.WriteString("\r\nbody\r\n")
	out, err := sesmime.RewriteBytes([]byte(b.String()), opts)
	if err != nil {
		t.Fatalf("library: %v", err)
	}
	h, err := mimeheaders.Read(bufio.NewReader(bytes.NewReader(out)), mimeheaders.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var fs []Field
	for _, f := range h.Fields() {
		fs = append(fs, milterField(f, true))
	}
	return fs
}

func staticRules(t *testing.T, src string) func() *rules.Set {
	t.Helper()
	set, err := rules.Parse("test.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return func() *rules.Set { return set }
}

func fields(kv ...string) []Field {
	var fs []Field
	for i := 0; i < len(kv); i += 2 {
		fs = append(fs, Field{kv[i], kv[i+1]})
	}
	return fs
}

var base = fields("From", " a@x.test", "To", " b@y.test", "Subject", "  two spaces kept")

// TestHeaderEdits checks every header operation: the edits sent, and
// that applying them as the MTA does gives the library's header.
func TestHeaderEdits(t *testing.T) {
	longTags := "[default]\ntags = {"
	for i := range 40 {
		if i > 0 {
			longTags += ", "
		}
		longTags += "tag" + strings.Repeat("x", 10) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ` = "` + strings.Repeat("v", 20) + `"`
	}
	longTags += "}\n"
	tests := []struct {
		name   string
		rules  string
		fields []Field
		edits  []Edit
	}{
		{
			name:   "insert at top",
			rules:  "[default]\nconfig_set = \"news\"\ntags = { campaign = \"spring\" }\n",
			fields: base,
			edits: []Edit{
				{Op: Insert, Index: 0, Name: "X-SES-MESSAGE-TAGS", Value: " campaign=spring"},
				{Op: Insert, Index: 0, Name: "X-SES-CONFIGURATION-SET", Value: " news"},
			},
		},
		{
			name:   "replace in place",
			rules:  "[default]\nconfig_set = \"news\"\n",
			fields: slices.Concat(fields("X-Other", " 1", "X-SES-CONFIGURATION-SET", " old"), base),
			edits:  []Edit{{Op: Change, Index: 1, Name: "X-SES-CONFIGURATION-SET", Value: " news"}},
		},
		{
			name:   "already in strict form",
			rules:  "[default]\nconfig_set = \"news\"\n",
			fields: slices.Concat(fields("X-SES-CONFIGURATION-SET", " news"), base),
		},
		{
			name:   "lower-case name rewritten",
			rules:  "[default]\nconfig_set = \"news\"\n",
			fields: slices.Concat(base, fields("x-ses-configuration-set", " news")),
			edits:  []Edit{{Op: Change, Index: 1, Name: "X-SES-CONFIGURATION-SET", Value: " news"}},
		},
		{
			name:   "no space after colon",
			rules:  "[default]\nconfig_set = \"news\"\n",
			fields: slices.Concat(base, fields("X-SES-CONFIGURATION-SET", "news")),
			edits:  []Edit{{Op: Change, Index: 1, Name: "X-SES-CONFIGURATION-SET", Value: " news"}},
		},
		{
			name:  "duplicates deleted from the last",
			rules: "[default]\nconfig_set = \"news\"\n",
			fields: append(fields("X-SES-CONFIGURATION-SET", " a", "Subject", " s", "x-ses-configuration-set", " b",
				"X-SES-CONFIGURATION-SET", " news"), base...),
			edits: []Edit{
				{Op: Change, Index: 1, Name: "X-SES-CONFIGURATION-SET", Value: " news"},
				{Op: Delete, Index: 3, Name: "X-SES-CONFIGURATION-SET"},
				{Op: Delete, Index: 2, Name: "x-ses-configuration-set"},
			},
		},
		{
			name:   "tags merged",
			rules:  "[default]\ntags = { b = \"2\" }\ntags_mode = \"merge\"\n",
			fields: slices.Concat(base, fields("X-SES-MESSAGE-TAGS", " a=1,\n c=3")),
			edits:  []Edit{{Op: Change, Index: 1, Name: "X-SES-MESSAGE-TAGS", Value: " a=1, c=3, b=2"}},
		},
		{
			name:   "client SES fields stripped",
			rules:  "[default]\nconfig_set = \"news\"\nstrip_client_ses = true\n",
			fields: slices.Concat(fields("X-SES-SOURCE-ARN", " arn", "X-SES-MESSAGE-TAGS", " a=1"), base),
			edits: []Edit{
				{Op: Delete, Index: 1, Name: "X-SES-MESSAGE-TAGS"},
				{Op: Delete, Index: 1, Name: "X-SES-SOURCE-ARN"},
				{Op: Insert, Index: 0, Name: "X-SES-CONFIGURATION-SET", Value: " news"},
			},
		},
		{
			name:   "custom header replaced and added",
			rules:  "[default]\nheaders = { X-Campaign = \"spring\", X-Team = \"growth\" }\n",
			fields: slices.Concat(fields("X-Campaign", " old"), base),
			edits: []Edit{
				{Op: Change, Index: 1, Name: "X-Campaign", Value: " spring"},
				{Op: Insert, Index: 0, Name: "X-Team", Value: " growth"},
			},
		},
		{
			name:   "long tag list folded at comma space",
			rules:  longTags,
			fields: base,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := staticRules(t, tc.rules)
			addr := startServer(t, &Config{Rules: set})
			for _, leading := range []bool{true, false} {
				if !leading && tc.name == "no space after colon" {
					// Without leading-space mode the MTA shows "news" for
					// both ":news" and ": news": the milter cannot tell.
					continue
				}
				r := send(t, addr, leading, message{from: "a@x.test", rcpts: []string{"b@y.test"}, fields: tc.fields})
				if r.act.Type != dj.ActionAccept {
					t.Fatalf("leading=%v: action %v, want accept", leading, r.act)
				}
				if tc.edits != nil || tc.name == "already in strict form" {
					if diff := cmp.Diff(tc.edits, r.edits); diff != "" {
						t.Errorf("leading=%v: edits (-want +got):\n%s", leading, diff)
					}
				}
				d, err := set().Evaluate(&rules.Envelope{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				want := libraryHeader(t, tc.fields, d.Options())
				if got := Apply(tc.fields, r.edits); !cmp.Equal(want, got) {
					t.Errorf("leading=%v: header after the edits (-library +milter):\n%s", leading, cmp.Diff(want, got))
				}
				if tc.name == "long tag list folded at comma space" {
					v := r.edits[0].Value
					if !strings.Contains(v, ",\n ") || strings.Contains(v, "\r") {
						t.Errorf("long tags value not folded at \", \" with LF: %q", v)
					}
				}
			}
		})
	}
}

// TestEnvelopeRules checks the rules see the sender, recipients, AUTH
// user, client address and listener.
func TestEnvelopeRules(t *testing.T) {
	set := staticRules(t, `
[[rule]]
auth_user = "bob"
config_set = "auth"
[[rule]]
client = "10.0.0.0/8"
config_set = "internal"
[[rule]]
listener = "submission*"
config_set = "submission"
[[rule]]
mail_from = "*@news.example.com"
config_set = "news"
[[rule]]
rcpt_to = "*@eu.example.com"
config_set = "eu"
[[rule]]
header = { "List-Id" = "*weekly*" }
config_set = "weekly"
[default]
config_set = "other"
`)
	addr := startServer(t, &Config{Rules: set})
	tests := []struct {
		m    message
		want string
	}{
		{message{from: "a@x.test", rcpts: []string{"b@y.test"}, auth: "bob"}, "auth"},
		{message{from: "a@x.test", rcpts: []string{"b@y.test"}, client: "10.1.2.3"}, "internal"},
		{message{from: "a@x.test", rcpts: []string{"b@y.test"}, listener: "submission/inet"}, "submission"},
		{message{from: "ed@news.example.com", rcpts: []string{"b@y.test"}}, "news"},
		{message{from: "a@x.test", rcpts: []string{"b@eu.example.com"}}, "eu"},
		{message{from: "a@x.test", rcpts: []string{"b@y.test"}, fields: fields("List-Id", " <weekly.example.com>")}, "weekly"},
		{message{from: "a@x.test", rcpts: []string{"b@y.test"}}, "other"},
	}
	for _, tc := range tests {
		r := send(t, addr, true, tc.m)
		want := []Edit{{Op: Insert, Name: "X-SES-CONFIGURATION-SET", Value: " " + tc.want}}
		if diff := cmp.Diff(want, r.edits); diff != "" {
			t.Errorf("%+v: edits (-want +got):\n%s", tc.m, diff)
		}
	}
}

// TestPolicies checks the replies for rejects, mixed recipients and
// errors.
func TestPolicies(t *testing.T) {
	const mixedRules = `
[[rule]]
name = "eu"
rcpt_to = "*@eu.example.com"
config_set = "eu"
[default]
config_set = "world"
`
	tests := []struct {
		name   string
		cfg    Config
		rules  string
		m      message
		code   uint16 // 0: accepted
		reply  string // a part of the reply
		edits  []Edit
		result string
	}{
		{
			name:  "reject rule",
			rules: "[[rule]]\nmail_from = \"spam@*\"\nreject = \"no spam here\"\n",
			m:     message{from: "spam@x.test", rcpts: []string{"b@y.test"}, fields: base},
			code:  550, reply: "550 5.7.1 no spam here", result: Rejected,
		},
		{
			name:  "mixed recipients rejected",
			rules: mixedRules,
			m:     message{from: "a@x.test", rcpts: []string{"a@eu.example.com", "b@us.example.com", "c@eu.example.com"}, fields: base},
			code:  550, reply: `550 5.7.1 the recipients of this message need different rewrites (<a@eu.example.com> and 1 more: rule 1 "eu"; <b@us.example.com>: default); send one message per group`,
			result: Rejected,
		},
		{
			name:   "mixed recipients, first decides",
			cfg:    Config{Mixed: FirstMixed},
			rules:  mixedRules,
			m:      message{from: "a@x.test", rcpts: []string{"b@us.example.com", "a@eu.example.com"}, fields: base},
			edits:  []Edit{{Op: Insert, Name: "X-SES-CONFIGURATION-SET", Value: " world"}},
			result: Accepted,
		},
		{
			name:   "same decision for all recipients",
			rules:  mixedRules,
			m:      message{from: "a@x.test", rcpts: []string{"a@eu.example.com", "c@eu.example.com"}, fields: base},
			edits:  []Edit{{Op: Insert, Name: "X-SES-CONFIGURATION-SET", Value: " eu"}},
			result: Accepted,
		},
		{
			name:  "bad tag from header: tempfail",
			rules: "[default]\ntag_from_header = { list = \"List-Id\" }\n",
			m:     message{from: "a@x.test", rcpts: []string{"b@y.test"}, fields: slices.Concat(fields("List-Id", " <weekly.example.com>"), base)},
			code:  451, reply: "451 4.3.0 sesmime-milter: ", result: Deferred,
		},
		{
			name:  "bad tag from header: reject",
			cfg:   Config{OnError: Reject},
			rules: "[default]\ntag_from_header = { list = \"List-Id\" }\n",
			m:     message{from: "a@x.test", rcpts: []string{"b@y.test"}, fields: slices.Concat(fields("List-Id", " <weekly.example.com>"), base)},
			code:  550, reply: "550 5.7.1 sesmime-milter: ", result: Rejected,
		},
		{
			name:   "bad tag from header: accept unchanged",
			cfg:    Config{OnError: Accept},
			rules:  "[default]\nconfig_set = \"x\"\ntag_from_header = { list = \"List-Id\" }\n",
			m:      message{from: "a@x.test", rcpts: []string{"b@y.test"}, fields: slices.Concat(fields("List-Id", " <weekly.example.com>"), base)},
			result: Accepted,
		},
		{
			name:  "existing tags that cannot be merged",
			rules: "[default]\ntags = { b = \"2\" }\ntags_mode = \"merge\"\n",
			m:     message{from: "a@x.test", rcpts: []string{"b@y.test"}, fields: slices.Concat(fields("X-SES-MESSAGE-TAGS", " a=x.y"), base)},
			code:  451, reply: `"x.y"`, result: Deferred,
		},
		{
			name:  "bare CR in a value",
			rules: "[default]\nconfig_set = \"x\"\n",
			m:     message{from: "a@x.test", rcpts: []string{"b@y.test"}, fields: slices.Concat(fields("X-Odd", " a\rb"), base)},
			code:  451, reply: "CR in the value", result: Deferred,
		},
		{
			name:  "header over the limit",
			cfg:   Config{Limits: mimeheaders.Limits{MaxHeaderBytes: 100}},
			rules: "[default]\nconfig_set = \"x\"\n",
			m:     message{from: "a@x.test", rcpts: []string{"b@y.test"}, fields: slices.Concat(fields("X-Big", " "+strings.Repeat("b", 200)), base)},
			code:  451, reply: "header", result: Deferred,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Rules = staticRules(t, tc.rules)
			var (
				mu  sync.Mutex
				out []*Outcome
			)
			cfg.Observe = func(o *Outcome) { mu.Lock(); out = append(out, o); mu.Unlock() }
			addr := startServer(t, &cfg)
			r := send(t, addr, true, tc.m)
			if tc.code == 0 {
				if r.act.Type != dj.ActionAccept {
					t.Fatalf("action %v, want accept", r.act)
				}
			} else if r.act.SMTPCode != tc.code || !strings.Contains(r.act.SMTPReply, tc.reply) {
				t.Fatalf("action %v, want %d containing %q", r.act, tc.code, tc.reply)
			}
			if diff := cmp.Diff(tc.edits, r.edits); diff != "" {
				t.Errorf("edits (-want +got):\n%s", diff)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(out) != 1 {
				t.Fatalf("%d outcomes observed, want 1", len(out))
			}
			if o := out[0]; o.Result != tc.result || o.Code != int(tc.code) || o.QueueID != "ABC123" || o.From != tc.m.from {
				t.Errorf("outcome %+v, want result %s code %d", o, tc.result, tc.code)
			}
		})
	}
}

// TestTimeout checks a decision that takes too long is a tempfail.
func TestTimeout(t *testing.T) {
	set := staticRules(t, "[default]\nconfig_set = \"x\"\n")
	addr := startServer(t, &Config{
		Rules:   func() *rules.Set { time.Sleep(500 * time.Millisecond); return set() },
		Timeout: 50 * time.Millisecond,
	})
	r := send(t, addr, true, message{from: "a@x.test", rcpts: []string{"b@y.test"}, fields: base})
	if r.act.SMTPCode != 451 || !strings.Contains(r.act.SMTPReply, "no decision within") {
		t.Fatalf("action %v, want 451 no decision", r.act)
	}
	if len(r.edits) != 0 {
		t.Errorf("edits sent after a timeout: %v", r.edits)
	}
}

// TestSessionReuse sends two messages on one milter connection: nothing
// of the first (recipients, fields, AUTH user) leaks into the second.
func TestSessionReuse(t *testing.T) {
	set := staticRules(t, "[[rule]]\nrcpt_to = \"*@eu.example.com\"\nconfig_set = \"eu\"\n[default]\nconfig_set = \"world\"\n")
	addr := startServer(t, &Config{Rules: set})
	c := dj.NewClient("tcp", addr, dj.WithProtocols(offered))
	s, err := c.Session(dj.NewMacroBag())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Conn("c.test", dj.FamilyInet, 25, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Helo("c.test"); err != nil {
		t.Fatal(err)
	}
	for i, rcpt := range []string{"a@eu.example.com", "b@us.example.com"} {
		for _, err := range []error{
			second(s.Mail("a@x.test", "")), second(s.Rcpt(rcpt, "")), second(s.DataStart()),
			second(s.HeaderField("X-SES-CONFIGURATION-SET", " eu", nil)), second(s.HeaderEnd()),
		} {
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
		mods, act, err := s.BodyReadFrom(strings.NewReader(""))
		if err != nil || act.Type != dj.ActionAccept {
			t.Fatalf("message %d: %v %v", i, act, err)
		}
		if i == 0 && len(mods) != 0 {
			t.Errorf("message 1: %v, want no edits", mods)
		}
		if i == 1 && (len(mods) != 1 || mods[0].HeaderValue != " world") {
			t.Errorf("message 2: %v, want X-SES-CONFIGURATION-SET changed to world", mods)
		}
	}
}

func second[T any](_ T, err error) error { return err }
