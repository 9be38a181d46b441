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
	fmt.Println(h.End())
	// Output:
	// 1 "Subject" "hello world" "Subject : hello\r\n world\r\n"
	// 3 "To" "a@example.com" "To: a@example.com\r\n"
	// empty line
}

func ExampleHeader_AppendTo() {
	msg := "From: a@example.com\nSubject: hi\n\nbody\n"
	br := bufio.NewReader(strings.NewReader(msg))
	h, err := mimeheaders.Read(br, mimeheaders.Limits{})
	if err != nil {
		log.Fatal(err)
	}
	f, err := h.NewField("X-Campaign", "spring")
	if err != nil {
		log.Fatal(err)
	}
	h.SetFields(append([]mimeheaders.Field{f}, h.Fields()...))
	body, _ := io.ReadAll(br)
	fmt.Printf("%q\n", string(h.AppendTo(nil))+string(body))
	// Output: "X-Campaign: spring\nFrom: a@example.com\nSubject: hi\n\nbody\n"
}

func ExampleRead_limits() {
	br := bufio.NewReader(strings.NewReader("A: 1\r\nB: 2\r\nC: 3\r\n\r\n"))
	_, err := mimeheaders.Read(br, mimeheaders.Limits{MaxFields: 2})
	if se, ok := errors.AsType[*mimeheaders.SyntaxError](err); ok {
		fmt.Println(errors.Is(err, mimeheaders.ErrTooManyFields), se.Line)
	}
	fmt.Println(err)
	// Output:
	// true 3
	// line 3: header has more than 2 fields: "C: 3\r\n"
}
