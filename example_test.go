package sesmime_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/sesmime/sesmime"
)

func ExampleInject() {
	var out strings.Builder
	msg := "Subject: hi\r\n\r\nbody\r\n"
	if _, err := sesmime.Inject(&out, strings.NewReader(msg), &sesmime.Options{ConfigurationSet: "news"}); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", out.String())
	// Output: "X-SES-CONFIGURATION-SET: news\r\nSubject: hi\r\n\r\nbody\r\n"
}

func ExampleInjectBytes() {
	msg := []byte("From: a@example.com\nX-SES-MESSAGE-TAGS: team=growth\n\nhello\n")
	out, err := sesmime.InjectBytes(msg, &sesmime.Options{
		ConfigurationSet: "news",
		Tags:             []sesmime.Tag{{Name: "campaign", Value: "spring"}},
		TagsMode:         sesmime.Merge,
		Headers:          []sesmime.Header{{Name: "X-Campaign", Value: "spring.2026"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", out)
	// Output: "X-SES-CONFIGURATION-SET: news\nX-Campaign: spring.2026\nFrom: a@example.com\nX-SES-MESSAGE-TAGS: team=growth, campaign=spring\n\nhello\n"
}

func ExampleInspect() {
	msg := "X-SES-CONFIGURATION-SET: news\r\nX-SES-MESSAGE-TAGS: a=1, b=x.y\r\n\r\nbody\r\n"
	info, err := sesmime.Inspect(strings.NewReader(msg))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.ConfigurationSet, info.Tags)
	for _, f := range info.Findings {
		fmt.Println(f)
	}
	// Output:
	// news [a=1 b=x.y]
	// line 2: error: tag-invalid: invalid tag value "x.y": byte 1 ("."): parse: tag value must be 1-256 bytes of A-Z a-z 0-9 _ -
}
