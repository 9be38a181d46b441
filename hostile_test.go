package sesmime_test

import (
	"bytes"
	"hash/crc32"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/sesmime/sesmime"
)

// bodyGen yields n deterministic body bytes (76-column lines of base64-like
// text with CRLF, a decoy SES line now and then) without holding them.
type bodyGen struct {
	n    int64
	line []byte
	off  int
}

func newBodyGen(n int64) *bodyGen {
	var b bytes.Buffer
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < 64; i++ {
		if i == 17 {
			b.WriteString("X-SES-CONFIGURATION-SET: decoy-in-body\r\n")
			continue
		}
		for j := 0; j < 76; j++ {
			b.WriteByte(alphabet[(i*31+j*7)%64])
		}
		b.WriteString("\r\n")
	}
	return &bodyGen{n: n, line: b.Bytes()}
}

func (g *bodyGen) Read(p []byte) (int, error) {
	if g.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.n {
		p = p[:g.n]
	}
	k := 0
	for k < len(p) {
		c := copy(p[k:], g.line[g.off:])
		k += c
		g.off = (g.off + c) % len(g.line)
	}
	g.n -= int64(k)
	return k, nil
}

// prefixHasher checks that the first bytes written equal prefix and hashes
// the rest.
type prefixHasher struct {
	prefix []byte
	got    int
	bad    bool
	rest   hashCounter
}

type hashCounter struct {
	sum uint32
	n   int64
}

func (h *hashCounter) Write(p []byte) (int, error) {
	h.sum = crc32.Update(h.sum, castagnoli, p)
	h.n += int64(len(p))
	return len(p), nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (w *prefixHasher) Write(p []byte) (int, error) {
	n := len(p)
	if w.got < len(w.prefix) {
		k := min(len(p), len(w.prefix)-w.got)
		if !bytes.Equal(p[:k], w.prefix[w.got:w.got+k]) {
			w.bad = true
		}
		w.got += k
		p = p[k:]
	}
	w.rest.Write(p)
	return n, nil
}

// TestHugeBody streams a 2 GiB body (64 MiB with -short) behind a small
// header: the output is the new field, the header and the body byte for
// byte (compared by length and CRC-32C on both sides), and memory does not
// grow with the body.
func TestHugeBody(t *testing.T) {
	size := int64(2 << 30)
	if testing.Short() {
		size = 64 << 20
	}
	header := "From: a@example.com\r\nSubject: big\r\n\r\n"
	var in hashCounter
	body := io.TeeReader(newBodyGen(size), &in)
	out := &prefixHasher{prefix: []byte("X-SES-CONFIGURATION-SET: news\r\n" + header)}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := sesmime.Rewrite(out, io.MultiReader(strings.NewReader(header), body), &sesmime.Options{ConfigurationSet: "news"})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if out.bad || out.got != len(out.prefix) {
		t.Fatalf("output does not start with the new field and the original header")
	}
	if in.n != size || out.rest.n != size || in.sum != out.rest.sum {
		t.Errorf("body: read %d bytes (crc %08x), wrote %d bytes (crc %08x)", in.n, in.sum, out.rest.n, out.rest.sum)
	}
	if want := int64(len(out.prefix)) + size; n != want {
		t.Errorf("Inject returned %d, want %d", n, want)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("allocated %d bytes for a %d-byte body", alloc, size)
	}
}
