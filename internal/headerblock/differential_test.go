package headerblock_test

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	gmtextproto "github.com/emersion/go-message/textproto"

	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/internal/testmsg"
)

// FuzzDifferential compares Read with go-message's textproto.ReadHeader, an
// independent parser: for CRLF inputs that both accept as a whole header
// block, both must see the same field names and unfolded values in the same
// order.
func FuzzDifferential(f *testing.F) {
	for _, s := range []string{
		"A: 1\r\nB: 2\r\n\r\nbody",
		"Subject: folded\r\n value\r\n\tmore\r\nTo: x\r\n\r\n",
		"X-SES-CONFIGURATION-SET : old\r\nx-ses-message-tags:a=1,\r\n b=2\r\n\r\n",
		"A:\r\nB:  \r\n\r\n",
		"Received: from a\r\n by b;\r\n Tue, 24 Nov 2026\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	testmsg.AddCorpusSeeds(f, 2, 32<<10)
	f.Fuzz(func(t *testing.T, msg []byte) {
		if bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")) ||
			bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\r")) {
			return // CRLF inputs only: the two parsers treat bare LF and CR differently by design
		}
		h, err := headerblock.Read(bufio.NewReader(bytes.NewReader(msg)), headerblock.Limits{})
		if err != nil || h.From() != nil || h.Lead() != nil || h.End() != headerblock.EndBlank {
			return // only blocks that end at an empty line, with no mbox line or stray continuation
		}
		gh, err := gmtextproto.ReadHeader(bufio.NewReader(bytes.NewReader(msg)))
		if err != nil {
			t.Fatalf("go-message refuses a header block mimeheaders accepts: %v\n%q", err, msg)
		}
		var want, got []string
		for fs := gh.Fields(); fs.Next(); {
			want = append(want, strings.ToLower(fs.Key())+": "+squash(fs.Value()))
		}
		for _, fd := range h.Fields() {
			got = append(got, strings.ToLower(fd.Name())+": "+squash(fd.Value()))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("parsers disagree on %q:\nmimeheaders: %q\ngo-message:  %q", msg, got, want)
		}
	})
}

// squash folds runs of SP and HTAB into one SP and trims them: go-message
// joins continuation lines with one space where mimeheaders keeps them.
func squash(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' }), " ")
}
