package mbox

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestScanner(t *testing.T) {
	tests := []struct {
		in    string
		found int
	}{
		{"body\n", 0},
		{"\nFrom x\n", 2},
		{"\r\nFrom x\r\n", 2},
		{"a\nFrom x\n", 0},        // no empty line before
		{"\n>From x\n", 0},        // escaped
		{"\n From x\n", 0},        // not at the line start
		{"\nFrom", 0},             // too short to tell: not an envelope line
		{"a\n\nb\n\n\nFrom y", 6}, // found at the end of input
		{" \nFrom x\n", 0},        // a blank but not empty line
	}
	for _, tc := range tests {
		for _, chunked := range []bool{false, true} {
			s := &Scanner{Line: 1}
			var r io.Reader = strings.NewReader(tc.in)
			if chunked {
				r = iotest.OneByteReader(r)
			}
			if _, err := io.Copy(s, r); err != nil {
				t.Fatal(err)
			}
			if s.Found != tc.found {
				t.Errorf("Scanner(%q, one byte %v).Found = %d, want %d", tc.in, chunked, s.Found, tc.found)
			}
		}
	}
}
