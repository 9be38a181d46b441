package main

import (
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// A jsonRecord is a record --json prints as one object on a line.
type jsonRecord interface {
	appendJSON(b []byte) []byte
}

// A jsonOut writes --json records, one object a line, as encoding/json's
// Encoder with SetEscapeHTML(false) would. The few record shapes sesmime
// prints do not need encoding/json, whose code every start of the command
// would pay for (see bench/README.md).
type jsonOut struct {
	w   io.Writer
	buf []byte
}

// write prints r on a line.
func (j *jsonOut) write(r jsonRecord) error {
	j.buf = append(r.appendJSON(j.buf[:0]), '\n')
	_, err := j.w.Write(j.buf)
	return err
}

// A jsonObject appends the members of one object.
type jsonObject struct {
	b    []byte
	more bool
}

func openObject(b []byte) *jsonObject { return &jsonObject{b: append(b, '{')} }

func (o *jsonObject) key(k string) {
	if o.more {
		o.b = append(o.b, ',')
	}
	o.more = true
	o.b = appendJSONString(o.b, k)
	o.b = append(o.b, ':')
}

func (o *jsonObject) str(k, v string) { o.key(k); o.b = appendJSONString(o.b, v) }

// strOmit is str for a field tagged omitempty.
func (o *jsonObject) strOmit(k, v string) {
	if v != "" {
		o.str(k, v)
	}
}

func (o *jsonObject) int(k string, v int64) { o.key(k); o.b = strconv.AppendInt(o.b, v, 10) }

func (o *jsonObject) bool(k string, v bool) { o.key(k); o.b = strconv.AppendBool(o.b, v) }

// float appends v as encoding/json does: the shortest decimal, in
// exponent form only below 1e-6 or from 1e21 on.
func (o *jsonObject) float(k string, v float64) {
	o.key(k)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		v = 0 // not JSON; encoding/json would fail the whole record
	}
	f := byte('f')
	if a := math.Abs(v); a != 0 && (a < 1e-6 || a >= 1e21) {
		f = 'e'
	}
	n := len(o.b)
	o.b = strconv.AppendFloat(o.b, v, f, -1, 64)
	if f == 'e' {
		// clean up e-09 to e-9
		if m := len(o.b) - n; m >= 4 && o.b[len(o.b)-4] == 'e' && o.b[len(o.b)-3] == '-' && o.b[len(o.b)-2] == '0' {
			o.b[len(o.b)-2] = o.b[len(o.b)-1]
			o.b = o.b[:len(o.b)-1]
		}
	}
}

// strsOmit appends a list of strings tagged omitempty.
func (o *jsonObject) strsOmit(k string, v []string) {
	if len(v) == 0 {
		return
	}
	o.key(k)
	o.b = append(o.b, '[')
	for i, s := range v {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = appendJSONString(o.b, s)
	}
	o.b = append(o.b, ']')
}

// object appends a nested object.
func (o *jsonObject) object(k string, r jsonRecord) { o.key(k); o.b = r.appendJSON(o.b) }

func (o *jsonObject) close() []byte { return append(o.b, '}') }

// appendJSONString appends s quoted as encoding/json quotes it without
// HTML escaping: control characters, '"' and '\\' escaped, invalid UTF-8
// replaced by U+FFFD, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
