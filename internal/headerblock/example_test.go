package headerblock_test

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/sesmime/sesmime/internal/headerblock"
)

func ExampleHeader_AppendTo() {
	msg := "From: a@example.com\nSubject: hi\n\nbody\n"
	br := bufio.NewReader(strings.NewReader(msg))
	h, err := headerblock.Read(br, headerblock.Limits{})
	if err != nil {
		log.Fatal(err)
	}
	f, err := h.NewField("X-Campaign", "spring")
	if err != nil {
		log.Fatal(err)
	}
	h.SetFields(append([]headerblock.Field{f}, h.Fields()...))
	body, _ := io.ReadAll(br)
	fmt.Printf("%q\n", string(h.AppendTo(nil))+string(body))
	// Output: "X-Campaign: spring\nFrom: a@example.com\nSubject: hi\n\nbody\n"
}
