package sesmime_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/smtp"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"github.com/sesmime/sesmime"
)

func ExampleRewrite() {
	var out strings.Builder
	msg := "Subject: hi\r\n\r\nbody\r\n"
	if _, err := sesmime.Rewrite(&out, strings.NewReader(msg), &sesmime.Options{ConfigurationSet: "news"}); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", out.String())
	// Output: "X-SES-CONFIGURATION-SET: news\r\nSubject: hi\r\n\r\nbody\r\n"
}

func ExampleRewriteBytes() {
	msg := []byte("From: a@example.com\nX-SES-MESSAGE-TAGS: team=growth\n\nhello\n")
	out, err := sesmime.RewriteBytes(msg, &sesmime.Options{
		ConfigurationSet: "news",
		Tags:             []sesmime.Tag{{Name: "campaign", Value: "spring"}},
		TagsMode:         sesmime.Merge,
		Headers:          []sesmime.TagHeader{{Name: "X-Campaign", Value: "spring.2026"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", out)
	// Output: "X-SES-CONFIGURATION-SET: news\nX-Campaign: spring.2026\nFrom: a@example.com\nX-SES-MESSAGE-TAGS: team=growth, campaign=spring\n\nhello\n"
}

func ExampleInspect() {
	msg := "X-SES-CONFIGURATION-SET: news\r\nX-SES-MESSAGE-TAGS: a=1, b=x.y\r\nX-Campaign: spring\r\n\r\nbody\r\n"
	info, err := sesmime.Inspect(strings.NewReader(msg), &sesmime.InspectOptions{Headers: []string{"X-Campaign"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.ConfigurationSet, info.Tags, info.Headers)
	for _, f := range info.Findings {
		fmt.Println(f)
	}
	// Output:
	// news [a=1 b=x.y] [{X-Campaign spring}]
	// line 2, column 29: error: tag-invalid: invalid tag value "x.y": "." is not allowed
}

func ExampleLint() {
	msg := "Subject: hi\r\nSubject: again\r\nContent-Type: multipart/mixed\r\n\r\nbody\r\n"
	info, err := sesmime.Lint(strings.NewReader(msg), nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range info.Findings {
		fmt.Println(f)
	}
	// Output:
	// line 2: error: duplicate-field: Subject appears again (first at line 1): SES rejects the message with "Duplicate header 'Subject'."
	// line 3: error: mime-no-boundary: Content-Type multipart/mixed: it has no boundary parameter, so the parts cannot be found
}

func ExampleSyntaxError() {
	msg := "Subject: " + strings.Repeat("x", 100) + "\r\n\r\nbody\r\n"
	_, err := sesmime.RewriteBytes([]byte(msg), &sesmime.Options{
		ConfigurationSet: "news",
		Limits:           sesmime.Limits{MaxLineBytes: 64},
	})
	if se, ok := errors.AsType[*sesmime.SyntaxError](err); ok {
		fmt.Println(se.Line, se.Limit, errors.Is(err, sesmime.ErrHeaderTooLarge))
	}
	fmt.Println(err)
	// Output:
	// 1 64 true
	// line 1: header line is longer than 64 bytes: "Subject: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
}

// A message can be rewritten as it is written: here into the DATA
// command of an SMTP session with net/smtp (a test server stands in for
// SES's SMTP interface).
func ExampleNewWriter() {
	addr, received := fakeSMTP()
	c, err := smtp.Dial(addr)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Mail("sender@example.com"); err != nil {
		log.Fatal(err)
	}
	if err := c.Rcpt("rcpt@example.com"); err != nil {
		log.Fatal(err)
	}
	data, err := c.Data()
	if err != nil {
		log.Fatal(err)
	}
	w, err := sesmime.NewWriter(data, &sesmime.Options{ConfigurationSet: "news"})
	if err != nil {
		log.Fatal(err)
	}
	io.WriteString(w, "From: sender@example.com\r\nSubject: hi\r\n\r\n")
	io.WriteString(w, "hello\r\n")
	if err := w.Close(); err != nil { // the header error, if any
		log.Fatal(err)
	}
	if err := data.Close(); err != nil { // the server's answer to DATA
		log.Fatal(err)
	}
	c.Quit()
	fmt.Print(<-received)
	// Output:
	// X-SES-CONFIGURATION-SET: news
	// From: sender@example.com
	// Subject: hi
	//
	// hello
}

// A message built with go-message's mail package is rewritten as its
// WriteTo writes it.
func ExampleNewWriter_goMessage() {
	var h mail.Header
	h.SetAddressList("From", []*mail.Address{{Address: "sender@example.com"}})
	h.SetSubject("spring sale")
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	e, err := message.New(h.Header, strings.NewReader("hello\r\n"))
	if err != nil {
		log.Fatal(err)
	}

	var out strings.Builder
	w, err := sesmime.NewWriter(&out, &sesmime.Options{
		ConfigurationSet: "news",
		Tags:             []sesmime.Tag{{Name: "campaign", Value: "spring"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := e.WriteTo(w); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", out.String())
	// Output: "X-SES-CONFIGURATION-SET: news\r\nX-SES-MESSAGE-TAGS: campaign=spring\r\nMime-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nSubject: spring sale\r\nFrom: <sender@example.com>\r\n\r\nhello\r\n"
}
