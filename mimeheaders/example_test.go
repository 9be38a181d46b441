package mimeheaders_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/sesmime/sesmime/mimeheaders"
)

func ExampleRead() {
	br := bufio.NewReader(strings.NewReader("Subject : hello\r\n world\r\nTo: a@example.com\r\n\r\nbody\r\n"))
	h, err := mimeheaders.Read(br, mimeheaders.Limits{})
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range h.Fields() {
		fmt.Printf("%d %q %q %q\n", f.Line(), f.Name(), f.Value(), f.Raw())
	}
	rest, _ := io.ReadAll(br)
	fmt.Printf("%q\n", string(h.Bytes())+string(rest))
	// Output:
	// 1 "Subject" "hello world" "Subject : hello\r\n world\r\n"
	// 3 "To" "a@example.com" "To: a@example.com\r\n"
	// "Subject : hello\r\n world\r\nTo: a@example.com\r\n\r\nbody\r\n"
}

func ExampleRead_limits() {
	br := bufio.NewReader(strings.NewReader("A: 1\r\nB: 2\r\nC: 3\r\n\r\n"))
	_, err := mimeheaders.Read(br, mimeheaders.Limits{MaxFields: 2})
	if se, ok := errors.AsType[*mimeheaders.SyntaxError](err); ok {
		fmt.Println(errors.Is(err, mimeheaders.ErrHeaderTooLarge), se.Line, se.Limit)
	}
	fmt.Println(err)
	// Output:
	// true 3 2
	// line 3: header has more than 2 fields: "C: 3\r\n"
}

func ExampleHeader_Values() {
	msg := "X-Campaign: spring\r\nx-campaign:  summer \r\n\r\n"
	h, err := mimeheaders.Read(bufio.NewReader(strings.NewReader(msg)), mimeheaders.Limits{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", h.Values("X-CAMPAIGN"))
	// Output: ["spring" "summer"]
}
