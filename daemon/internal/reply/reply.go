// Package reply makes text safe to send as one SMTP or milter reply line.
package reply

import "strings"

// MaxLen is the most bytes Line keeps, well inside a 512-byte reply line.
const MaxLen = 400

// Line returns s with every control character (including CR and LF) turned
// into a space, cut to MaxLen bytes, so that it cannot end or split a reply.
func Line(s string) string {
	s = strings.Map(func(c rune) rune {
		if c < ' ' || c == 0x7f {
			return ' '
		}
		return c
	}, s)
	if len(s) > MaxLen {
		s = s[:MaxLen]
	}
	return s
}
