package rules_test

import (
	"fmt"
	"log"
	"net/netip"
	"net/textproto"
	"strings"

	"github.com/sesmime/sesmime"
	"github.com/sesmime/sesmime/rules"
)

func Example() {
	set, err := rules.Parse("rules.toml", []byte(`
[default]
config_set = "transactional"

[[rule]]
name = "newsletter"
mail_from = "*@news.example.com"
header = { "List-Id" = "*weekly*" }
config_set = "newsletters"
tags = { campaign = "weekly" }
`))
	if err != nil {
		log.Fatal(err)
	}
	env := &rules.Envelope{
		MailFrom: "editor@news.example.com",
		RcptTo:   []string{"reader@example.org"},
		Client:   netip.MustParseAddr("192.0.2.7"),
	}
	msg := []byte("List-Id: <weekly.news.example.com>\r\nSubject: hi\r\n\r\nbody\r\n")
	d, err := set.Evaluate(env, textproto.MIMEHeader{"List-Id": {"<weekly.news.example.com>"}})
	if err != nil {
		log.Fatal(err)
	}
	out, err := sesmime.RewriteBytes(msg, d.Options())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Rule)
	fmt.Printf("%q\n", out)
	// Output:
	// rule 1 "newsletter"
	// "X-SES-CONFIGURATION-SET: newsletters\r\nX-SES-MESSAGE-TAGS: campaign=weekly\r\nList-Id: <weekly.news.example.com>\r\nSubject: hi\r\n\r\nbody\r\n"
}

func ExampleSet_Split() {
	set, err := rules.Parse("rules.toml", []byte(`
[[rule]]
rcpt_to = "*@eu.example.com"
config_set = "eu"

[default]
config_set = "world"
`))
	if err != nil {
		log.Fatal(err)
	}
	env := &rules.Envelope{MailFrom: "app@example.com", RcptTo: []string{"a@eu.example.com", "b@example.net", "c@eu.example.com"}}
	groups, err := set.Split(env, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, g := range groups {
		fmt.Println(g.Decision.ConfigurationSet, g.RcptTo)
	}
	// Output:
	// eu [a@eu.example.com c@eu.example.com]
	// world [b@example.net]
}

// A command that has messages but not their envelopes (files, a pipe)
// takes the sender from each header, and rewrites each message as the
// rules decide for it.
func ExampleRewriter() {
	set, err := rules.Parse("rules.toml", []byte(`
[[rule]]
mail_from = "*@news.example.com"
config_set = "newsletters"

[default]
config_set = "transactional"
`))
	if err != nil {
		log.Fatal(err)
	}
	decide := func(h rules.Header) (*rules.Decision, error) {
		from, _, err := rules.HeaderSender(h)
		if err != nil {
			return nil, err
		}
		return set.Evaluate(&rules.Envelope{MailFrom: from}, h)
	}
	rw := rules.NewRewriter(nil)
	for _, msg := range []string{
		"From: Editor <editor@news.example.com>\r\n\r\nbody\r\n",
		"Return-Path: <>\r\nFrom: a@example.com\r\n\r\nbody\r\n",
		"Subject: no sender\r\n\r\nbody\r\n",
	} {
		var out strings.Builder
		if _, err := rw.Rewrite(&out, strings.NewReader(msg), decide); err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%q\n", out.String())
	}
	// Output:
	// "X-SES-CONFIGURATION-SET: newsletters\r\nFrom: Editor <editor@news.example.com>\r\n\r\nbody\r\n"
	// "X-SES-CONFIGURATION-SET: transactional\r\nReturn-Path: <>\r\nFrom: a@example.com\r\n\r\nbody\r\n"
	// mail_from: no Return-Path, Sender or From field
}

func ExampleError() {
	_, err := rules.Parse("rules.toml", []byte("[[rule]]\nmail_from = \"*@example.com\"\nconfig_set = \"news letter\"\n"))
	fmt.Println(err)
	// Output:
	// rules.toml:3:14: rule 1: config_set: invalid configuration set "news letter": " " is not allowed
}
