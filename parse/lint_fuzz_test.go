package parse_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/internal/testmsg"
	"github.com/sesmime/sesmime/parse"
)

// FuzzLint checks that Lint never panics or hangs on any input, refuses only
// with mimeheaders' exported errors, and reports findings in line order
// with lines inside the message and codes of the documented set.
func FuzzLint(f *testing.F) {
	testmsg.AddSeeds(f, "testdata/lint/*.eml", 4<<10)
	testmsg.AddCorpusSeeds(f, 1, 4<<10)
	for _, seed := range parse.MIMESeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		info, err := parse.Lint(bytes.NewReader(msg), &parse.Options{Headers: []string{"X-Campaign"}, API: parse.V1})
		if err != nil {
			for _, want := range []error{headerblock.ErrEmpty, headerblock.ErrHeaderTooLarge, headerblock.ErrLineTooLong, headerblock.ErrTooManyFields} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("Lint refused with an unexported error: %v", err)
		}
		lines := bytes.Count(msg, []byte("\n")) + 1
		if !slices.IsSortedFunc(info.Findings, func(a, b parse.Finding) int { return a.Line - b.Line }) {
			t.Errorf("findings out of line order: %v", info.Findings)
		}
		for _, fd := range info.Findings {
			if fd.Line < 0 || fd.Line > lines {
				t.Errorf("finding %v: line outside the message's %d lines", fd, lines)
			}
			if fd.Code == "" || fd.Message == "" {
				t.Errorf("finding without code or message: %+v", fd)
			}
		}
	})
}
