package inject_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/parse"
)

func ExampleRewriter_Rewrite() {
	rw, err := inject.NewRewriter(&inject.Options{
		ConfigurationSet: "news",
		Tags:             []parse.Tag{{Name: "campaign", Value: "spring"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	var out strings.Builder
	msg := "Subject: hi\r\nx-ses-configuration-set: old\r\n\r\nbody\r\n"
	if _, err := rw.Rewrite(&out, strings.NewReader(msg)); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", out.String())
	// Output: "X-SES-MESSAGE-TAGS: campaign=spring\r\nSubject: hi\r\nX-SES-CONFIGURATION-SET: news\r\n\r\nbody\r\n"
}

func ExampleTagsMode() {
	rw, err := inject.NewRewriter(&inject.Options{
		Tags:     []parse.Tag{{Name: "campaign", Value: "spring"}, {Name: "variant", Value: "b"}},
		TagsMode: inject.Merge,
	})
	if err != nil {
		log.Fatal(err)
	}
	msg := []byte("From: a@example.com\nX-SES-MESSAGE-TAGS: team=growth, campaign=fall\n\nhello\n")
	out, _, err := rw.Bytes(msg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", out)
	// Output: "From: a@example.com\nX-SES-MESSAGE-TAGS: team=growth, campaign=spring, variant=b\n\nhello\n"
}

func ExampleRewriter_Bytes() {
	rw, err := inject.NewRewriter(&inject.Options{RemoveAllSES: true})
	if err != nil {
		log.Fatal(err)
	}
	out, res, err := rw.Bytes([]byte("X-SES-CONFIGURATION-SET: a\r\nSubject: hi\r\nX-SES-FROM-ARN: arn\r\n\r\nbody"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", out)
	for _, c := range res.Changes {
		fmt.Println(c.Op, c.Name, "at line", c.Line)
	}
	// Output:
	// "Subject: hi\r\n\r\nbody"
	// removed X-SES-CONFIGURATION-SET at line 1
	// removed X-SES-FROM-ARN at line 3
}

func ExampleNewRewriter_invalid() {
	_, err := inject.NewRewriter(&inject.Options{ConfigurationSet: "news\r\nBcc: victim@example.com"})
	fmt.Println(err)
	// Output: invalid configuration set "news\r\nBcc: victim@example.com": "\r" is not allowed
}
