package inject_test

import (
	"bytes"
	"io"
	"strings"

	"github.com/sesmime/sesmime/inject"
)

// A message as split by split: code of its own, written from the header
// block rule in the package docs, independent of mimeheaders.
type message struct {
	from   string   // mbox "From " line
	lead   string   // SP/HTAB lines before the first field
	fields []string // each field's exact bytes
	body   string   // everything after the block
	eol    string   // the line ending new lines get
	noHdr  bool     // the first line is body
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// fieldName returns the name of the field starting line, or "".
func fieldName(line string) string {
	i := 0
	for i < len(line) && line[i] > ' ' && line[i] < 127 && line[i] != ':' {
		i++
	}
	j := i
	for j < len(line) && isWSP(line[j]) {
		j++
	}
	if i == 0 || j == len(line) || line[j] != ':' {
		return ""
	}
	return line[:i]
}

func eolOf(line string) string {
	switch {
	case strings.HasSuffix(line, "\r\n"):
		return "\r\n"
	case strings.HasSuffix(line, "\n"):
		return "\n"
	}
	return ""
}

func split(msg []byte) message {
	s := string(msg)
	var lines []string
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			lines, s = append(lines, s), ""
			break
		}
		lines, s = append(lines, s[:i+1]), s[i+1:]
	}
	var m message
	k := 0
	if len(lines) > 0 && strings.HasPrefix(lines[0], "From ") {
		m.from = lines[0]
		k = 1
	}
	first := k
	for ; k < len(lines); k++ {
		l := lines[k]
		switch {
		case l == "\n" || l == "\r\n":
		case isWSP(l[0]):
			if len(m.fields) == 0 {
				m.lead += l
			} else {
				m.fields[len(m.fields)-1] += l
			}
			continue
		case fieldName(l) != "":
			m.fields = append(m.fields, l)
			continue
		default:
			m.noHdr = k == first
		}
		break
	}
	m.body = strings.Join(lines[k:], "")
	m.eol = "\r\n"
	if first < len(lines) && eolOf(lines[first]) != "" {
		m.eol = eolOf(lines[first])
	} else if eolOf(m.from) != "" && (first >= len(lines) || !strings.HasSuffix(lines[first], "\r")) {
		// A first line ending in a bare CR ends in CRLF once an LF is added.
		m.eol = eolOf(m.from)
	}
	return m
}

// named returns the fields of m named name (ignoring case), and the others.
func named(fields []string, names ...string) (match, other []string) {
	for _, f := range fields {
		n := fieldName(f)
		hit := false
		for _, want := range names {
			hit = hit || strings.EqualFold(n, want)
		}
		if hit {
			match = append(match, f)
		} else {
			other = append(other, f)
		}
	}
	return match, other
}

// unfold returns a field's value as SES reads it: after the colon, line
// breaks removed, SP/HTAB trimmed.
func unfold(field string) string {
	v := field[strings.IndexByte(field, ':')+1:]
	v = strings.ReplaceAll(v, "\r\n", "")
	v = strings.ReplaceAll(v, "\n", "")
	return strings.Trim(v, " \t")
}

// pattern is a body chunk with CRLFs, LFs, bare CRs, NULs, 8-bit bytes and
// decoy SES fields.
var pattern = func() []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < 4096; i++ {
		switch i % 5 {
		case 0:
			b.WriteString("X-SES-CONFIGURATION-SET: decoy\r\n")
		case 1:
			b.WriteString("line with a bare \r CR and \x00 NUL\n")
		case 2:
			b.WriteString("caf\xc3\xa9 \xff\xfe 8-bit\r\n")
		case 3:
			b.WriteString("\r\n")
		default:
			b.WriteString(strings.Repeat("abcdefghij", i%13) + "\r\n")
		}
	}
	return b.Bytes()[:4096]
}()

// body is an io.Reader of n body bytes, never held in memory whole; the
// bytes at offset k are pattern[(k+k/4096)%4096], so no chunk repeats
// with the period of a buffer.
type body struct {
	n, off int64
}

func (b *body) Read(p []byte) (int, error) {
	if b.off >= b.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), b.n-b.off)]
	k := 0
	for k < len(p) {
		blk := b.off / 4096
		start := (b.off + blk) % 4096
		c := copy(p[k:], pattern[start:])
		c = min(c, int(4096-b.off%4096)) // stay within this block
		k += c
		b.off += int64(c)
	}
	return k, nil
}

// genMessage returns a message of about size bytes: a small header with
// existing SES fields, then a generated body.
func genMessage(size int) []byte {
	hdr := "Return-Path: <a@example.com>\r\n" +
		"Received: from mx.example.com by mx2.example.com;\r\n\tMon, 1 Jan 2026 00:00:00 +0000\r\n" +
		"From: Alice <a@example.com>\r\nTo: b@example.com\r\nSubject: a test\r\n" +
		"X-SES-CONFIGURATION-SET: old\r\nX-SES-MESSAGE-TAGS: a=1, b=2\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
	b := []byte(hdr)
	bb, _ := io.ReadAll(&body{n: int64(max(size-len(hdr), 0))})
	return append(b, bb...)
}

// rewrite is Rewriter.Rewrite with a new Rewriter for opts, as
// sesmime.Rewrite does it.
func rewrite(w io.Writer, r io.Reader, opts *inject.Options) (int64, error) {
	rw, err := inject.NewRewriter(opts)
	if err != nil {
		return 0, err
	}
	res, err := rw.Rewrite(w, r)
	return res.Written, err
}

// rewriteBytes is Rewriter.Bytes with a new Rewriter for opts.
func rewriteBytes(msg []byte, opts *inject.Options) ([]byte, error) {
	rw, err := inject.NewRewriter(opts)
	if err != nil {
		return nil, err
	}
	out, _, err := rw.Bytes(msg)
	return out, err
}
