package inject_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/sesmime/sesmime/bench/msggen"
	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/internal/testmsg"
	"github.com/sesmime/sesmime/parse"
)

var streamOpts = &inject.Options{
	ConfigurationSet: "news",
	Tags:             tags("campaign", "spring", "variant", "b"),
	Headers:          []parse.TagHeader{{Name: "X-Campaign", Value: "spring.2026"}},
	AllowNoHeader:    true,
	AllowBareCR:      true,
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// pipeIn returns a reader fed by writes of n bytes from another goroutine.
func pipeIn(msg []byte, n int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		for len(msg) > 0 {
			k := min(n, len(msg))
			if _, err := pw.Write(msg[:k]); err != nil {
				return
			}
			msg = msg[k:]
		}
		pw.Close()
	}()
	return pr
}

// chunkWriter takes at most n bytes per Write and fails the rest with
// io.ErrShortWrite, as io.Writer requires.
type chunkWriter struct {
	buf   bytes.Buffer
	n     int
	calls int
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	c.calls++
	k := min(len(p), c.n)
	c.buf.Write(p[:k])
	if k < len(p) {
		return k, io.ErrShortWrite
	}
	return k, nil
}

// pieceWriter stores every Write in pieces of n bytes through a
// bufio.Writer of size n, so the output reaches it in n-byte writes.
type pieceWriter struct {
	buf   bytes.Buffer
	max   int // largest write seen
	calls int
}

func (p *pieceWriter) Write(b []byte) (int, error) {
	p.calls++
	p.max = max(p.max, len(b))
	return p.buf.Write(b)
}

func streamMessages() map[string]string {
	ms := map[string]string{}
	for _, tc := range rewriteTests {
		if tc.err == nil && len(refusals([]byte(tc.in), streamOpts)) == 0 {
			ms[tc.name] = tc.in
		}
	}
	ms["generated 100 KiB"] = string(genMessage(100 << 10))
	return ms
}

func TestRewriteStreaming(t *testing.T) {
	rw, err := inject.NewRewriter(streamOpts)
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range streamMessages() {
		want, _, err := rw.Bytes([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		readers := map[string]func() io.Reader{
			"onebyte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(in)) },
			"half":    func() io.Reader { return iotest.HalfReader(strings.NewReader(in)) },
			"dataerr": func() io.Reader { return iotest.DataErrReader(strings.NewReader(in)) },
			"bufio16": func() io.Reader { return bufio.NewReaderSize(strings.NewReader(in), 16) },
		}
		for _, n := range []int{1, 2, 3, 7, 4096} {
			readers[fmt.Sprintf("chunks%d", n)] = func() io.Reader { return &chunkReader{strings.NewReader(in), n} }
			readers[fmt.Sprintf("pipe%d", n)] = func() io.Reader { return pipeIn([]byte(in), n) }
		}
		for rname, mk := range readers {
			if len(in) > 10000 && (rname == "onebyte" || rname == "pipe1" || rname == "chunks1") {
				continue // fast enough under -race with the smaller messages
			}
			var out bytes.Buffer
			res, err := rw.Rewrite(&out, mk())
			if err != nil {
				t.Errorf("%s/%s: %v", name, rname, err)
				continue
			}
			if !bytes.Equal(out.Bytes(), want) || res.Written != int64(len(want)) {
				t.Errorf("%s/%s: got %q (Written %d), want %q", name, rname, out.Bytes(), res.Written, want)
			}
		}
		for _, n := range []int{1, 2, 3, 7, 4096} {
			// Writes of n bytes: through a bufio.Writer of that size.
			pw := &pieceWriter{}
			bw := bufio.NewWriterSize(pw, n)
			if _, err := rw.Rewrite(bw, strings.NewReader(in)); err != nil {
				t.Fatalf("%s: writes of %d: %v", name, n, err)
			}
			if err := bw.Flush(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pw.buf.Bytes(), want) {
				t.Errorf("%s: writes of %d: got %q, want %q", name, n, pw.buf.Bytes(), want)
			}
			// A writer that takes only n bytes must make Rewrite fail, never lose bytes silently.
			cw := &chunkWriter{n: n}
			res, err := rw.Rewrite(cw, strings.NewReader(in))
			switch {
			case len(want) <= n && err != nil:
				t.Errorf("%s: writer of %d: %v", name, n, err)
			case len(want) > n && !errors.Is(err, io.ErrShortWrite):
				t.Errorf("%s: writer of %d: error %v, want io.ErrShortWrite", name, n, err)
			}
			if res.Written != int64(cw.buf.Len()) || !bytes.HasPrefix(want, cw.buf.Bytes()) {
				t.Errorf("%s: writer of %d: Written %d, wrote %q", name, n, res.Written, cw.buf.Bytes())
			}
		}
	}
}

// failWriter fails every Write once n bytes have been taken.
type failWriter struct {
	n   int
	got bytes.Buffer
	err error
}

func (f *failWriter) Write(p []byte) (int, error) {
	k := min(len(p), f.n-f.got.Len())
	f.got.Write(p[:k])
	if k < len(p) {
		return k, f.err
	}
	return k, nil
}

func TestRewriteWriterFails(t *testing.T) {
	boom := errors.New("disk full")
	msg := genMessage(200 << 10)
	rw, err := inject.NewRewriter(streamOpts)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := rw.Bytes(msg)
	for _, n := range []int{0, 1, 50, 400, 16 << 10, 100 << 10, len(want) - 1} {
		fw := &failWriter{n: n, err: boom}
		res, err := rw.Rewrite(fw, bytes.NewReader(msg))
		if !errors.Is(err, boom) {
			t.Errorf("fail after %d: error %v, want %v", n, err, boom)
		}
		if res.Written != int64(n) || !bytes.Equal(fw.got.Bytes(), want[:n]) {
			t.Errorf("fail after %d: Written %d, wrote %d bytes", n, res.Written, fw.got.Len())
		}
	}
}

func TestRewriteReaderFails(t *testing.T) {
	boom := errors.New("connection reset")
	msg := genMessage(100 << 10)
	hdrLen := bytes.Index(msg, []byte("\r\n\r\n")) + 4
	rw, err := inject.NewRewriter(streamOpts)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 10, hdrLen - 3, hdrLen - 1} {
		var out bytes.Buffer
		_, err := rw.Rewrite(&out, &testmsg.ErrAfter{Data: msg, N: n, Err: boom})
		if !errors.Is(err, boom) {
			t.Errorf("error in the header at %d: %v, want %v", n, err, boom)
		}
		if out.Len() != 0 {
			t.Errorf("error in the header at %d: wrote %d bytes, want none", n, out.Len())
		}
	}
	for _, n := range []int{hdrLen + 20000, len(msg) - 1} {
		var out bytes.Buffer
		res, err := rw.Rewrite(&out, &testmsg.ErrAfter{Data: msg, N: n, Err: boom})
		if !errors.Is(err, boom) {
			t.Errorf("error in the body at %d: %v, want %v", n, err, boom)
		}
		if res.Written != int64(out.Len()) {
			t.Errorf("Written %d, wrote %d", res.Written, out.Len())
		}
	}
	if _, err := rw.Rewrite(io.Discard, testmsg.ZeroReader{}); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("reader returning 0, nil: %v, want io.ErrNoProgress", err)
	}
	if _, err := rw.Rewrite(io.Discard, iotest.TimeoutReader(bytes.NewReader(msg))); !errors.Is(err, iotest.ErrTimeout) {
		t.Errorf("timeout reader: %v", err)
	}
}

func TestRewriteRefusedWritesNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		opts *inject.Options
	}{
		{"empty", "", streamOpts},
		{"header too large", strings.Repeat("A: 1\r\n", 100), &inject.Options{ConfigurationSet: "a", Limits: limits(200)}},
		{"bad existing tags", "X-SES-MESSAGE-TAGS: a=b.c\n\n", &inject.Options{Tags: tags("a", "1"), TagsMode: inject.Merge}},
	} {
		w := &pieceWriter{}
		if _, err := rewrite(w, strings.NewReader(tc.in), tc.opts); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
		if w.calls != 0 {
			t.Errorf("%s: %d writes, want none", tc.name, w.calls)
		}
	}
}

// TestExistingTagsError checks that Merge refuses tags of the message it
// cannot write back with a *parse.ValueError at the byte at fault.
func TestExistingTagsError(t *testing.T) {
	rw, err := inject.NewRewriter(&inject.Options{Tags: tags("a", "1"), TagsMode: inject.Merge})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		msg, want string
	}{
		{"S: x\nX-SES-MESSAGE-TAGS: a=1\nX-SES-MESSAGE-TAGS: b=c.d\n\n", `line 3, column 24: invalid tag value "c.d": "." is not allowed`},
		{"S: x\nX-SES-MESSAGE-TAGS: a=1,\n  x y=2\n\n", `line 3, column 4: invalid tag name "x y": " " is not allowed`},
		{"X-SES-MESSAGE-TAGS: a=1, junk\n\n", `line 1, column 26: malformed tag "junk": not name=value`},
		{"S: x\nX-SES-MESSAGE-TAGS: a=\n\n", `line 2: invalid tag value: empty`},
	} {
		_, err = rw.Rewrite(io.Discard, strings.NewReader(tc.msg))
		if _, ok := errors.AsType[*parse.ValueError](err); !ok || !errors.Is(err, parse.ErrInvalidTag) || err.Error() != tc.want {
			t.Errorf("Rewrite(%q) error %v, want a *parse.ValueError %q", tc.msg, err, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	rw, err := inject.NewRewriter(streamOpts)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("body not to be read")
	msg := genMessage(64 << 10)
	want, wantRes, _ := rw.Bytes(msg)
	res, err := rw.Check(io.MultiReader(bytes.NewReader(msg[:2048]), iotest.ErrReader(boom)))
	if err != nil {
		t.Fatalf("Check read into the body: %v", err)
	}
	if res.Written != 0 || res.Changed != wantRes.Changed || len(res.Changes) != len(wantRes.Changes) {
		t.Errorf("Check = %+v, want like %+v", res, wantRes)
	}
	res, err = rw.Check(bytes.NewReader(want))
	if err != nil || res.Changed {
		t.Errorf("Check of the output = %+v, %v; want unchanged", res, err)
	}
}

func TestRewriterConcurrent(t *testing.T) {
	rw, err := inject.NewRewriter(streamOpts)
	if err != nil {
		t.Fatal(err)
	}
	var inputs, wants [][]byte
	for _, in := range streamMessages() {
		want, _, err := rw.Bytes([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		inputs, wants = append(inputs, []byte(in)), append(wants, want)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 3 * len(inputs) {
				k := (i + g) % len(inputs)
				var out bytes.Buffer
				if _, err := rw.Rewrite(&out, bytes.NewReader(inputs[k])); err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(out.Bytes(), wants[k]) {
					t.Errorf("goroutine %d: message %d differs", g, k)
				}
				if k%3 == 0 {
					if _, err := rw.Rewrite(io.Discard, strings.NewReader("")); err == nil {
						t.Error("empty message accepted")
					}
				}
			}
		})
	}
	wg.Wait()
}

// hashWriter hashes everything after the first skip bytes, keeping those.
type hashWriter struct {
	head []byte
	skip int
	h    hash.Hash
	n    int64
}

func (w *hashWriter) Write(p []byte) (int, error) {
	n := len(p)
	if k := min(len(p), w.skip-len(w.head)); k > 0 {
		w.head = append(w.head, p[:k]...)
		p = p[k:]
	}
	w.h.Write(p)
	w.n += int64(len(p))
	return n, nil
}

// hashReader hashes what is read through it.
type hashReader struct {
	r io.Reader
	h hash.Hash
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	return n, err
}

// TestRewriteLargeBody streams a generated body (64 MiB, 8 MiB with
// -short) behind a small header: the body arrives byte-identical and the
// memory used does not grow with it.
func TestRewriteLargeBody(t *testing.T) {
	size := int64(64 << 20)
	if testing.Short() {
		size = 8 << 20
	}
	hdr := "From: a@example.com\r\nX-SES-CONFIGURATION-SET: old\r\nSubject: big\r\n\r\n"
	wantHdr := "X-SES-MESSAGE-TAGS: campaign=spring, variant=b\r\nX-Campaign: spring.2026\r\n" +
		"From: a@example.com\r\nX-SES-CONFIGURATION-SET: news\r\nSubject: big\r\n\r\n"
	rw, err := inject.NewRewriter(streamOpts)
	if err != nil {
		t.Fatal(err)
	}
	run := func(n int64) (in, out []byte, w *hashWriter, alloc uint64) {
		src := &hashReader{r: &body{n: n}, h: sha256.New()}
		w = &hashWriter{skip: len(wantHdr), h: sha256.New()}
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		res, err := rw.Rewrite(w, io.MultiReader(strings.NewReader(hdr), src))
		runtime.ReadMemStats(&m1)
		if err != nil {
			t.Fatal(err)
		}
		if res.Written != int64(len(wantHdr))+n {
			t.Errorf("Written = %d, want %d", res.Written, int64(len(wantHdr))+n)
		}
		return src.h.Sum(nil), w.h.Sum(nil), w, m1.TotalAlloc - m0.TotalAlloc
	}
	_, _, _, small := run(1 << 20)
	in, out, w, big := run(size)
	if string(w.head) != wantHdr {
		t.Errorf("header = %q, want %q", w.head, wantHdr)
	}
	if !bytes.Equal(in, out) || w.n != size {
		t.Errorf("body: %d bytes, sha256 %x; want %d bytes, sha256 %x", w.n, out, size, in)
	}
	// The copy buffer is the same for any body size: allow some slack for
	// the runtime, never a share of the body.
	if big > small+256<<10 {
		t.Errorf("a %d-byte body allocated %d bytes, a 1 MiB one %d", size, big, small)
	}
	t.Logf("allocated %d bytes for 1 MiB, %d for %d MiB", small, big, size>>20)
}

// maxReusedAllocs bounds the allocations of one call with a reused
// Rewriter, the caller's bytes.Reader included: Result.Changes (and the
// result of Bytes) are the only ones the rewriter itself needs.
const maxReusedAllocs = 10

func TestRewriteAllocsDoNotGrowWithBody(t *testing.T) {
	rw, err := inject.NewRewriter(streamOpts)
	if err != nil {
		t.Fatal(err)
	}
	msgs := []struct {
		name string
		msg  []byte
	}{
		{"1KiB", genMessage(1 << 10)},
		{"1MiB", genMessage(1 << 20)},
		{"4KiB multipart", msggen.Message(4<<10, 0)},
		{"10MiB multipart", msggen.Message(10<<20, 0)},
		{"2000 fields", msggen.Message(256<<10, 1980)},
	}
	// A Rewriter used by one goroutine at a time keeps its state out of
	// the sync.Pool, which a garbage collection (frequent with large Bytes
	// results) or -race would empty: no slack is needed.
	for _, api := range []struct {
		name string
		call func(msg []byte) error
	}{
		{"Rewrite", func(msg []byte) error {
			_, err := rw.Rewrite(io.Discard, bytes.NewReader(msg))
			return err
		}},
		{"Check", func(msg []byte) error {
			_, err := rw.Check(bytes.NewReader(msg))
			return err
		}},
		{"Bytes", func(msg []byte) error {
			_, _, err := rw.Bytes(msg)
			return err
		}},
	} {
		first := -1.0
		for _, m := range msgs {
			n := testing.AllocsPerRun(20, func() {
				if err := api.call(m.msg); err != nil {
					t.Fatal(err)
				}
			})
			t.Logf("%s %s: %v allocations", api.name, m.name, n)
			if first < 0 {
				first = n
			}
			if n > first {
				t.Errorf("%s %s: %v allocations per call, %s: %v", api.name, m.name, n, msgs[0].name, first)
			}
			if n > maxReusedAllocs {
				t.Errorf("%s %s: %v allocations per call with a reused Rewriter, want at most %d", api.name, m.name, n, maxReusedAllocs)
			}
		}
	}
}

// TestFreshRewriteAllocs pins what a first call costs: a new Rewriter
// makes room for a usual header at once (about 40 fields, 4 KiB) instead of
// growing its slices through every size on the way, which a one-message
// process such as the command line pays for in fresh memory. The header
// grows past the first room only from 64 fields or 8 KiB.
func TestFreshRewriteAllocs(t *testing.T) {
	msgs := []struct {
		name string
		msg  []byte
		max  float64
	}{
		{"4KiB multipart", msggen.Message(4<<10, 0), 24},
		{"40 fields", msggen.Message(64<<10, 20), 24},
	}
	for _, m := range msgs {
		n := testing.AllocsPerRun(20, func() {
			if _, err := rewrite(io.Discard, bytes.NewReader(m.msg), streamOpts); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%s: %v allocations", m.name, n)
		if n > m.max {
			t.Errorf("%s: a fresh Rewrite allocates %v times, want at most %v", m.name, n, m.max)
		}
	}
}

func limits(maxHeader int) headerblock.Limits { return headerblock.Limits{MaxHeaderBytes: maxHeader} }

// repeatReader returns pattern over and over, n bytes in all.
type repeatReader struct {
	pattern []byte
	n, read int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.read >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-r.read)]
	for k := 0; k < len(p); {
		k += copy(p[k:], r.pattern[(r.read+int64(k))%int64(len(r.pattern)):])
	}
	r.read += int64(len(p))
	return len(p), nil
}

func TestRewriteHostileHeader(t *testing.T) {
	for _, tc := range []struct {
		name  string
		r     *repeatReader
		err   error
		bound uint64
	}{
		{"1 GiB header line", &repeatReader{pattern: []byte("aaaaaaaa"), n: 1 << 30}, headerblock.ErrLineTooLong, 1 << 20},
		{"10 million tiny fields", &repeatReader{pattern: []byte("A:\n"), n: 3e7}, headerblock.ErrTooManyFields, 8 << 20},
		{"1 GiB of continuation lines", &repeatReader{pattern: []byte(" b\r\n\tc\r\n"), n: 1 << 30}, headerblock.ErrHeaderTooLarge, 8 << 20},
	} {
		w := &pieceWriter{}
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		_, err := rewrite(w, tc.r, streamOpts)
		runtime.ReadMemStats(&m1)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
		if w.calls != 0 {
			t.Errorf("%s: %d writes, want none", tc.name, w.calls)
		}
		if a := m1.TotalAlloc - m0.TotalAlloc; a > tc.bound {
			t.Errorf("%s: allocated %d bytes, want <= %d", tc.name, a, tc.bound)
		}
		if tc.r.read > 2<<20 {
			t.Errorf("%s: read %d bytes", tc.name, tc.r.read)
		}
	}
}
