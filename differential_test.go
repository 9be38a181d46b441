package sesmime_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gmtextproto "github.com/emersion/go-message/textproto"
	"github.com/sesmime/sesmime/internal/headerblock"
)

// TestDifferentialGoMessage reads the header of every testdata and corpus
// message with mimeheaders and with go-message's textproto, an independent
// parser. Where go-message accepts the whole block (it refuses lines that
// mimeheaders treats as the end of the block), both must see the same field
// names and values in the same order.
func TestDifferentialGoMessage(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.eml")
	if dir := os.Getenv("SESMIME_CORPUS"); dir != "" {
		more, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
		files = append(files, more...)
	}
	compared := 0
	for _, file := range files {
		msg, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(msg, []byte("From ")) {
			msg = msg[bytes.IndexByte(msg, '\n')+1:] // go-message has no mbox line
		}
		h, err := headerblock.Read(bufio.NewReader(bytes.NewReader(msg)), headerblock.Limits{})
		if err != nil || h.End() == headerblock.EndBody || len(msg) > 0 && (msg[0] == ' ' || msg[0] == '\t') { // no stray lead lines
			continue
		}
		gh, err := gmtextproto.ReadHeader(bufio.NewReader(bytes.NewReader(msg)))
		if err != nil {
			continue
		}
		var want []string
		for f := gh.Fields(); f.Next(); {
			want = append(want, strings.ToLower(f.Key())+": "+squash(f.Value()))
		}
		var got []string
		for _, f := range h.Fields() {
			got = append(got, strings.ToLower(f.Name())+": "+squash(f.Value()))
		}
		compared++
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: mimeheaders and go-message disagree:\nmimeheaders:\n\t%s\ngo-message:\n\t%s",
				file, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
		}
	}
	if compared == 0 {
		t.Fatal("no message compared")
	}
	t.Logf("compared %d of %d messages", compared, len(files))
}

// squash folds runs of whitespace (including the line breaks go-message
// keeps as spaces and a trailing bare CR) into single spaces.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }
