package reply

import (
	"strings"
	"testing"
)

func TestLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ok", "ok"},
		{"a\r\n250 b", "a  250 b"},
		{"x\x00y\x7fz\tw", "x y z w"},
		{strings.Repeat("a", 500), strings.Repeat("a", MaxLen)},
	} {
		if got := Line(tc.in); got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
