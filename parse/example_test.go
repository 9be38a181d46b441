package parse_test

import (
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/sesmime/sesmime/parse"
)

func ExampleInspect() {
	msg := "X-SES-CONFIGURATION-SET: news\r\nX-SES-MESSAGE-TAGS: campaign=spring, campaign=fall\r\n\r\nbody\r\n"
	in, err := parse.Inspect(strings.NewReader(msg), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q %q\n", in.ConfigurationSet, in.Tags)
	for _, f := range in.Findings {
		fmt.Println(f.Line, f.Code, f.Error)
	}
	// Output:
	// "news" ["campaign=spring" "campaign=fall"]
	// 2 tag-duplicate-name true
}

func ExampleParseTags() {
	tags, err := parse.ParseTags(" campaign = spring ,, variant=b,oops")
	fmt.Printf("%q\n", tags)
	fmt.Printf("%q\n", parse.FormatTags(tags))
	fmt.Println(err)
	// Output:
	// ["campaign=spring" "variant=b"]
	// "campaign=spring, variant=b"
	// malformed tag "oops": not name=value
}

func ExampleValidateTag() {
	err := parse.ValidateTag(parse.Tag{Name: "campaign", Value: "spring\r\nBcc: x"})
	var ve *parse.ValueError
	if errors.As(err, &ve) {
		fmt.Printf("%v %q %d\n", errors.Is(err, parse.ErrInvalidTag), ve.Value, ve.Column)
	}
	fmt.Println(err)
	// Output:
	// true "spring\r\nBcc: x" 7
	// invalid tag value "spring\r\nBcc: x": "\r" is not allowed
}
