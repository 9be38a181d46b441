package rules_test

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"net/textproto"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesmime/sesmime/parse"
	"github.com/sesmime/sesmime/rules"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := "testdata/" + name + ".golden"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// TestGoldenEvaluate runs sample envelopes through testdata/example.toml.
func TestGoldenEvaluate(t *testing.T) {
	set, err := rules.Load("testdata/example.toml")
	if err != nil {
		t.Fatal(err)
	}
	hdr := func(kv ...string) textproto.MIMEHeader {
		h := textproto.MIMEHeader{}
		for i := 0; i < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	cases := []struct {
		name string
		env  rules.Envelope
		h    textproto.MIMEHeader
	}{
		{"nothing matches", rules.Envelope{MailFrom: "a@example.com", RcptTo: []string{"b@example.org"}}, nil},
		{"blocked v4", rules.Envelope{MailFrom: "a@news.example.com", Client: netip.MustParseAddr("203.0.113.9")}, nil},
		{"blocked v4-mapped v6", rules.Envelope{Client: netip.MustParseAddr("::ffff:203.0.113.9")}, nil},
		{"blocked v6", rules.Envelope{Client: netip.MustParseAddr("2001:db8::1")}, nil},
		{"v6 neighbour passes", rules.Envelope{Client: netip.MustParseAddr("2001:db8::2")}, nil},
		{"newsletter", rules.Envelope{MailFrom: "Ed@News.Example.com"}, hdr("List-Id", "The <weekly.example.com>", "X-Variant", "b")},
		{"newsletter second list-id", rules.Envelope{MailFrom: "ed@letters.example.com"}, hdr("List-Id", "daily", "List-Id", "weekly")},
		{"newsletter without list-id", rules.Envelope{MailFrom: "ed@news.example.com"}, nil},
		{"newsletter list-id not weekly", rules.Envelope{MailFrom: "ed@news.example.com"}, hdr("List-Id", "daily")},
		{"eu any recipient", rules.Envelope{RcptTo: []string{"a@example.com", "b@mail.eu"}}, nil},
		{"eu no dot", rules.Envelope{RcptTo: []string{"b@eu"}}, nil},
		{"app", rules.Envelope{AuthUser: "app-1", Listener: "submission"}, nil},
		{"app with campaign", rules.Envelope{AuthUser: "app-1", Listener: "submission"}, hdr("X-Campaign", "x")},
		{"app other listener", rules.Envelope{AuthUser: "app-1", Listener: "smtp"}, nil},
		{"app user too long", rules.Envelope{AuthUser: "app-12", Listener: "submission"}, nil},
		{"unauthenticated", rules.Envelope{Listener: "submission"}, nil},
		{"null sender", rules.Envelope{MailFrom: "", RcptTo: []string{"x@example.com"}}, nil},
	}
	var b strings.Builder
	for _, tc := range cases {
		if tc.env.MailFrom == "" && tc.name != "null sender" {
			tc.env.MailFrom = "someone@example.com"
		}
		var h rules.Header
		if tc.h != nil {
			h = tc.h
		}
		d, err := set.Evaluate(&tc.env, h)
		fmt.Fprintf(&b, "%s:\n", tc.name)
		if err != nil {
			fmt.Fprintf(&b, "\terror: %v\n", err)
			continue
		}
		fmt.Fprintf(&b, "\t%s (index %d, line %d)\n", d.Rule, d.Index, d.Line)
		fmt.Fprintf(&b, "\tconfig_set=%q tags=%v mode=%v headers=%v strip=%v reject=%q\n",
			d.ConfigurationSet, d.Tags, d.TagsMode, d.Headers, d.StripClientSES, d.Reject)
	}
	golden(t, "example", b.String())
}

func TestTagFromHeaderRefused(t *testing.T) {
	set, err := rules.Load("testdata/example.toml")
	if err != nil {
		t.Fatal(err)
	}
	h := textproto.MIMEHeader{"List-Id": {"weekly"}, "X-Variant": {"a.b"}}
	_, err = set.Evaluate(&rules.Envelope{MailFrom: "e@news.example.com"}, h)
	if !errors.Is(err, rules.ErrTagFromHeader) || !errors.Is(err, parse.ErrInvalidTag) {
		t.Fatalf("Evaluate = %v, want ErrTagFromHeader and ErrInvalidTag", err)
	}
	if he, ok := errors.AsType[*rules.HeaderError](err); !ok || he.Field != "X-Variant" || he.Line != 12 {
		t.Errorf("Evaluate = %#v, want a *HeaderError for X-Variant at line 12", err)
	}
}

// TestInvalid loads one broken file per validation error; the messages are
// in testdata/invalid.golden.
func TestInvalid(t *testing.T) {
	cases := []struct {
		name string
		toml string
		want error
	}{
		{"syntax", "[[rule]\n", rules.ErrSyntax},
		{"syntax late line", "[default]\nconfig_set = \"a\"\nx = \n", rules.ErrSyntax},
		{"duplicate key", "[default]\nconfig_set = \"a\"\nconfig_set = \"b\"\n", rules.ErrDuplicateKey},
		{"duplicate table", "[default]\n[default]\n", rules.ErrDuplicateKey},
		{"duplicate inline key", "[[rule]]\ntags = { a = \"b\", a = \"c\" }\n", rules.ErrDuplicateKey},
		{"extend inline table", "[[rule]]\ntags = { a = \"b\" }\ntags.c = \"d\"\n", rules.ErrDuplicateKey},
		{"top-level key", "config_set = \"a\"\n", rules.ErrUnknownKey},
		{"unknown rule key", "[[rule]]\nmail_for = \"x\"\n", rules.ErrUnknownKey},
		{"match key in default", "[default]\nmail_from = \"x\"\n", rules.ErrUnknownKey},
		{"default not a table", "default = 1\n", rules.ErrType},
		{"rule not an array", "[rule]\nconfig_set = \"a\"\n", rules.ErrType},
		{"rule is a value array", "rule = [1]\n", rules.ErrType},
		{"name not a string", "[[rule]]\nname = 3\n", rules.ErrType},
		{"name empty", "[[rule]]\nname = \"\"\n", rules.ErrEmpty},
		{"mail_from not a string", "[[rule]]\nmail_from = 1\n", rules.ErrType},
		{"mail_from list of ints", "[[rule]]\nmail_from = [\"a\", 2]\n", rules.ErrType},
		{"mail_from empty list", "[[rule]]\nmail_from = []\n", rules.ErrEmpty},
		{"rcpt_to empty glob", "[[rule]]\nrcpt_to = \"\"\n", rules.ErrGlob},
		{"rcpt_to control byte", "[[rule]]\nrcpt_to = \"a\\tb\"\n", rules.ErrGlob},
		{"auth_user trailing backslash", "[[rule]]\nauth_user = 'a\\'\n", rules.ErrGlob},
		{"listener not a list", "[[rule]]\nlistener = { a = \"b\" }\n", rules.ErrType},
		{"client bad", "[[rule]]\nclient = \"10.0.0.300/8\"\n", rules.ErrCIDR},
		{"client host bits", "[[rule]]\nclient = \"10.1.2.3/8\"\n", rules.ErrCIDR},
		{"header not a table", "[[rule]]\nheader = \"List-Id\"\n", rules.ErrType},
		{"header bad field name", "[[rule]]\nheader = { \"List Id\" = \"*\" }\n", rules.ErrFieldName},
		{"header value not a string", "[[rule]]\nheader = { \"List-Id\" = true }\n", rules.ErrType},
		{"header bad glob", "[[rule]]\nheader = { \"List-Id\" = \"\" }\n", rules.ErrGlob},
		{"header_absent bad name", "[[rule]]\nheader_absent = [\"X:Y\"]\n", rules.ErrFieldName},
		{"config_set not a string", "[default]\nconfig_set = 1\n", rules.ErrType},
		{"config_set invalid", "[default]\nconfig_set = \"a.b\"\n", parse.ErrInvalidConfigurationSet},
		{"config_set too long", "[default]\nconfig_set = \"" + strings.Repeat("a", 65) + "\"\n", parse.ErrInvalidConfigurationSet},
		{"tags not a table", "[default]\ntags = [\"a=b\"]\n", rules.ErrType},
		{"tag value not a string", "[default]\ntags = { a = 1 }\n", rules.ErrType},
		{"tag name invalid", "[default]\ntags = { \"a b\" = \"c\" }\n", parse.ErrInvalidTag},
		{"tag name reserved", "[default]\ntags = { \"ses:x\" = \"c\" }\n", parse.ErrInvalidTag},
		{"tag value invalid", "[default]\ntags = { a = \"x@y\" }\n", parse.ErrInvalidTag},
		{"tag value empty", "[default]\n[default.tags]\na = \"\"\n", parse.ErrInvalidTag},
		{"tags_mode not a string", "[default]\ntags_mode = true\n", rules.ErrType},
		{"tags_mode unknown", "[default]\ntags_mode = \"add\"\n", rules.ErrTagsMode},
		{"headers not a table", "[default]\nheaders = \"X-A\"\n", rules.ErrType},
		{"headers value not a string", "[default]\nheaders = { X-A = 1 }\n", rules.ErrType},
		{"headers reserved name", "[default]\nheaders = { From = \"a\" }\n", parse.ErrInvalidHeader},
		{"headers ses name", "[default]\nheaders = { X-SES-TENANT = \"a\" }\n", parse.ErrInvalidHeader},
		{"headers bad value", "[default]\nheaders = { X-A = \"a b\" }\n", parse.ErrInvalidHeader},
		{"headers bad name", "[default]\nheaders = { \"X A\" = \"a\" }\n", parse.ErrInvalidHeader},
		{"headers twice", "[default]\nheaders = { X-A = \"a\", x-a = \"b\" }\n", rules.ErrConflict},
		{"tag_from_header not a table", "[default]\ntag_from_header = \"X-A\"\n", rules.ErrType},
		{"tag_from_header not a string", "[default]\ntag_from_header = { a = 1 }\n", rules.ErrType},
		{"tag_from_header bad tag", "[default]\ntag_from_header = { \"a.b\" = \"X-A\" }\n", parse.ErrInvalidTag},
		{"tag_from_header bad field", "[default]\ntag_from_header = { a = \"X A\" }\n", rules.ErrFieldName},
		{"tag_from_header and tags", "[default]\ntags = { a = \"b\" }\ntag_from_header = { a = \"X-A\" }\n", rules.ErrConflict},
		{"strip not a bool", "[default]\nstrip_client_ses = \"yes\"\n", rules.ErrType},
		{"reject not a string", "[[rule]]\nreject = true\n", rules.ErrType},
		{"reject empty", "[[rule]]\nreject = \"\"\n", rules.ErrReason},
		{"reject newline", "[[rule]]\nreject = \"a\\r\\nb\"\n", rules.ErrReason},
		{"reject with action", "[[rule]]\nconfig_set = \"a\"\nreject = \"no\"\n", rules.ErrConflict},
	}
	var b strings.Builder
	for _, tc := range cases {
		_, err := rules.Parse("rules.toml", []byte(tc.toml))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Parse = %v, want %v", tc.name, err, tc.want)
			continue
		}
		if e, ok := errors.AsType[*rules.Error](err); !ok || e.Line == 0 || e.File != "rules.toml" {
			t.Errorf("%s: Parse = %#v, want a *rules.Error with a line", tc.name, err)
		}
		fmt.Fprintf(&b, "%s:\n\t%v\n", tc.name, err)
	}
	golden(t, "invalid", b.String())
}

func TestGlob(t *testing.T) {
	set := func(p string) *rules.Set {
		s, err := rules.Parse("x", []byte(fmt.Sprintf("[[rule]]\nmail_from = %q\nconfig_set = \"hit\"\n", p)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true},
		{"*", "a@b", true},
		{"a*", "A", true},
		{"*@example.com", "x@EXAMPLE.com", true},
		{"*@example.com", "x@example.com.evil", false},
		{"*@*.example.com", "x@example.com", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{`a\?`, "a?", true},
		{"*a*a*a*b", strings.Repeat("a", 100), false},
		{"**", "x", true},
		{"<>", "", true},
		{"<>", "a", false},
	}
	for _, tc := range cases {
		d, err := set(tc.pat).Evaluate(&rules.Envelope{MailFrom: tc.s}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.ConfigurationSet == "hit"; got != tc.want {
			t.Errorf("%q matching %q = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

func TestClassAndSplit(t *testing.T) {
	set, err := rules.Parse("x", []byte(`
[[rule]]
rcpt_to = "*@eu.example.com"
header = { X-Priority = "1" }
config_set = "eu-urgent"

[[rule]]
rcpt_to = "*@eu.example.com"
config_set = "eu"

[[rule]]
rcpt_to = "vip@*"
config_set = "eu"

[default]
config_set = "world"
`))
	if err != nil {
		t.Fatal(err)
	}
	env := &rules.Envelope{MailFrom: "a@example.com"}
	a := set.Class(env, "a@eu.example.com")
	b := set.Class(env, "b@eu.example.com")
	c := set.Class(env, "c@example.net")
	v := set.Class(env, "vip@example.net")
	if a != b || a == c || a == v || c == v {
		t.Errorf("classes %q %q %q %q: want a == b, all others distinct", a, b, c, v)
	}
	env.RcptTo = []string{"a@eu.example.com", "c@example.net", "vip@example.net", "b@eu.example.com"}
	gs, err := set.Split(env, textproto.MIMEHeader{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range gs {
		got = append(got, fmt.Sprintf("%s %v", g.Decision.ConfigurationSet, g.RcptTo))
	}
	// vip gets the same action as the eu recipients by another rule: one group.
	want := []string{"eu [a@eu.example.com vip@example.net b@eu.example.com]", "world [c@example.net]"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Split mismatch (-want +got):\n%s", diff)
	}
	gs, err = set.Split(env, textproto.MIMEHeader{"X-Priority": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 3 || gs[0].Decision.ConfigurationSet != "eu-urgent" {
		t.Errorf("Split with X-Priority = %v, want eu-urgent, eu, world", gs)
	}
}

func TestStatic(t *testing.T) {
	if _, err := rules.Static(rules.Action{ConfigurationSet: "a b"}); !errors.Is(err, parse.ErrInvalidConfigurationSet) {
		t.Errorf("Static(bad set) = %v", err)
	}
	s, err := rules.Static(rules.Action{ConfigurationSet: "cs"})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := s.Evaluate(&rules.Envelope{}, nil)
	if d.ConfigurationSet != "cs" || d.Index != -1 {
		t.Errorf("Static decision = %+v", d)
	}
}

func TestExplain(t *testing.T) {
	set, err := rules.Load("testdata/example.toml")
	if err != nil {
		t.Fatal(err)
	}
	h := textproto.MIMEHeader{"List-Id": {"the weekly"}, "X-Variant": {"b"}}
	cases := []struct {
		name string
		env  rules.Envelope
		file string
		want string
	}{
		{"default", rules.Envelope{MailFrom: "a@example.com"}, "r.toml", "rule: default\nconfig_set: transactional\ntags (replace): env=prod\nheaders: (unchanged)\nstrip_client_ses: true"},
		{"reject", rules.Envelope{Client: netip.MustParseAddr("203.0.113.1")}, "r.toml", "rule: rule 1 \"blocked\" (r.toml:7)\nreject: this network may not send"},
		{"no file", rules.Envelope{Client: netip.MustParseAddr("203.0.113.1")}, "", "rule: rule 1 \"blocked\"\nreject: this network may not send"},
		{"tags and merge", rules.Envelope{MailFrom: "a@news.example.com"}, "r.toml", "rule: rule 2 \"newsletter\" (r.toml:12)\nconfig_set: newsletters\ntags (merge): campaign=weekly, variant=b\nheaders: (unchanged)\nstrip_client_ses: false"},
		{"headers", rules.Envelope{RcptTo: []string{"a@b.eu"}}, "r.toml", "rule: rule 3 \"eu\" (r.toml:21)\nconfig_set: eu-world\ntags (replace): (unchanged)\nheaders: X-Region: eu\nstrip_client_ses: false"},
	}
	for _, tc := range cases {
		d, err := set.Evaluate(&tc.env, h)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(d.Explain(tc.file), "\n"); got != tc.want {
			t.Errorf("%s: Explain =\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}

func TestUses(t *testing.T) {
	set, err := rules.Parse("r.toml", []byte("[[rule]]\nrcpt_to = \"*\"\nconfig_set = \"a\"\n[[rule]]\nheader_absent = \"X-A\"\nconfig_set = \"b\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]bool{"mail_from": false, "rcpt_to": true, "auth_user": false, "client": false, "listener": false, "header": false, "header_absent": true, "config_set": false} {
		if got := set.Uses(key); got != want {
			t.Errorf("Uses(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestDecide(t *testing.T) {
	set, err := rules.Parse("x", []byte(`
[[rule]]
rcpt_to = "*@eu.example.com"
config_set = "eu"

[[rule]]
mail_from = "news@*"
config_set = "news"

[default]
config_set = "world"
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from   string
		rcpts  []string
		want   string // the decision's configuration set, or "" for none
		groups int
	}{
		{"news@example.com", nil, "news", 0},
		{"a@example.com", nil, "world", 0},
		{"a@example.com", []string{"x@eu.example.com", "y@eu.example.com"}, "eu", 1},
		{"a@example.com", []string{"x@eu.example.com", "y@example.net"}, "", 2},
		{"news@example.com", []string{"y@example.net"}, "news", 1},
	} {
		d, gs, err := set.Decide(&rules.Envelope{MailFrom: tc.from, RcptTo: tc.rcpts}, nil)
		got := ""
		if d != nil {
			got = d.ConfigurationSet
		}
		if err != nil || got != tc.want || len(gs) != tc.groups {
			t.Errorf("Decide(%s to %v) = %q with %d groups, %v; want %q with %d", tc.from, tc.rcpts, got, len(gs), err, tc.want, tc.groups)
		}
	}
}
