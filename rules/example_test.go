package rules_test

import (
	"fmt"
	"log"
	"net/netip"
	"net/textproto"

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

func ExampleError() {
	_, err := rules.Parse("rules.toml", []byte("[[rule]]\nmail_from = \"*@example.com\"\nconfig_set = \"news letter\"\n"))
	fmt.Println(err)
	// Output:
	// rules.toml:3:14: rule 1: config_set: invalid configuration set "news letter": " " is not allowed
}
