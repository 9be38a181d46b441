package inject_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/internal/headerblock"
)

// writeSplit writes msg to a NewWriter of rw in pieces of the sizes in
// sizes (cycled; 0 means the rest), then closes it.
func writeSplit(rw *inject.Rewriter, msg []byte, sizes []int) ([]byte, error) {
	var out bytes.Buffer
	w := rw.NewWriter(&out)
	for i := 0; len(msg) > 0; i++ {
		n := len(msg)
		if len(sizes) > 0 && sizes[i%len(sizes)] > 0 {
			n = min(n, sizes[i%len(sizes)])
		}
		k, err := w.Write(msg[:n])
		if err != nil {
			if k != 0 {
				return nil, errors.New("a failed Write reported bytes written")
			}
			if cerr := w.Close(); cerr != err {
				return nil, errors.New("Close after a failed Write: " + errString(cerr) + ", want " + err.Error())
			}
			return out.Bytes(), err
		}
		if k != n {
			return nil, io.ErrShortWrite
		}
		msg = msg[n:]
	}
	err := w.Close()
	return out.Bytes(), err
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// checkWriterMatches checks that writing msg in pieces gives what
// Rewriter.Bytes gives: the same bytes, or the same error and no bytes.
func checkWriterMatches(t *testing.T, rw *inject.Rewriter, msg []byte, sizes []int) {
	t.Helper()
	want, _, wantErr := rw.Bytes(msg)
	got, err := writeSplit(rw, msg, sizes)
	if errString(err) != errString(wantErr) {
		t.Fatalf("writes of %v: error %v, Bytes: %v\nin: %q", sizes, err, wantErr, msg)
	}
	if wantErr != nil {
		if len(got) != 0 && !errors.Is(wantErr, headerblock.ErrMbox) {
			t.Fatalf("writes of %v: refused with %v but wrote %q", sizes, err, got)
		}
		return
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("writes of %v:\n got %q\nwant %q\nin:  %q", sizes, got, want, msg)
	}
}

func TestWriterMatchesRewrite(t *testing.T) {
	msgs := streamMessages()
	for _, tc := range rewriteTests {
		msgs["refused "+tc.name] = tc.in
	}
	msgs["empty"] = ""
	msgs["crlf split"] = "Subject: a\r\n\r\nbody\r\n"
	msgs["no header"] = "just text\nX-SES-CONFIGURATION-SET: x\n"
	msgs["header only"] = "Subject: a\r\nX-SES-MESSAGE-TAGS: a=b"
	for _, opts := range []*inject.Options{streamOpts, nil, {RemoveAllSES: true}, {Tags: tags("a", "b"), TagsMode: inject.Merge}} {
		rw, err := inject.NewRewriter(opts)
		if err != nil {
			t.Fatal(err)
		}
		for name, msg := range msgs {
			for _, sizes := range [][]int{nil, {1}, {2}, {3}, {7}, {4096}, {1, 5, 2, 64}, {11, 1}} {
				t.Run(name, func(t *testing.T) { checkWriterMatches(t, rw, []byte(msg), sizes) })
			}
		}
	}
}

func TestWriterLimits(t *testing.T) {
	rw, err := inject.NewRewriter(&inject.Options{ConfigurationSet: "news", Limits: headerblock.Limits{MaxHeaderBytes: 4096, MaxLineBytes: 512, MaxFields: 50}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		msg     []byte
		wantErr error
	}{
		{"long line", append([]byte("X: "), bytes.Repeat([]byte("a"), 10000)...), headerblock.ErrLineTooLong},
		{"many fields", bytes.Repeat([]byte("A: b\n"), 100), headerblock.ErrTooManyFields},
		{"large block", []byte("A: b\n" + strings.Repeat(" continued line\n", 1000)), headerblock.ErrHeaderTooLarge},
	} {
		for _, sizes := range [][]int{nil, {1}, {7}, {4096}} {
			checkWriterMatches(t, rw, tc.msg, sizes)
			if _, err := writeSplit(rw, tc.msg, sizes); !errors.Is(err, tc.wantErr) {
				t.Errorf("%s in writes of %v: %v, want %v", tc.name, sizes, err, tc.wantErr)
			}
		}
	}
}

// TestWriterHoldsOnlyHeader checks that once the header has been written
// the body passes straight through, and that a hostile header is refused
// after a bounded number of bytes.
func TestWriterHoldsOnlyHeader(t *testing.T) {
	rw, err := inject.NewRewriter(streamOpts)
	if err != nil {
		t.Fatal(err)
	}
	var out pieceWriter
	w := rw.NewWriter(&out)
	// The fields, then the empty line in a write too small to double
	// what is held: the empty line alone must release the header.
	fields := "From: a@example.com\r\nSubject: hi\r\n" + strings.Repeat("X-Long: 0123456789\r\n", 10)
	if _, err := io.WriteString(w, fields); err != nil {
		t.Fatal(err)
	}
	if out.calls != 0 {
		t.Fatalf("header incomplete but %d writes downstream", out.calls)
	}
	if _, err := io.WriteString(w, "\r\n"); err != nil {
		t.Fatal(err)
	}
	if out.calls != 1 {
		t.Fatalf("header complete but %d writes downstream", out.calls)
	}
	chunk := bytes.Repeat([]byte("0123456789abcde\n"), 256)
	for i := range 256 {
		before := out.buf.Len()
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
		if out.buf.Len()-before != len(chunk) {
			t.Fatalf("body write %d: %d bytes passed on, want %d", i, out.buf.Len()-before, len(chunk))
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		pattern string
		err     error
	}{
		{"endless line", "aaaaaaaa", headerblock.ErrLineTooLong},
		{"endless fields", "A:\n", headerblock.ErrTooManyFields},
		{"endless continuation", " b\r\n\tc\r\n", headerblock.ErrHeaderTooLarge},
	} {
		var out pieceWriter
		w := rw.NewWriter(&out)
		piece := []byte(strings.Repeat(tc.pattern, 512))
		held := 0
		for err == nil && held < 64<<20 {
			_, err = w.Write(piece)
			held += len(piece)
		}
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
		if held > 3<<20 {
			t.Errorf("%s: refused after %d bytes", tc.name, held)
		}
		if out.calls != 0 {
			t.Errorf("%s: refused but %d writes downstream", tc.name, out.calls)
		}
		if cerr := w.Close(); cerr != err {
			t.Errorf("%s: Close: %v, want %v", tc.name, cerr, err)
		}
		err = nil
	}
}

func TestWriterDownstreamFails(t *testing.T) {
	rw, err := inject.NewRewriter(streamOpts)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	for _, n := range []int{0, 60, 500 << 10} {
		w := rw.NewWriter(&failWriter{n: n, err: boom})
		var werr error
		for range 100 {
			if _, werr = w.Write([]byte("Subject: hi\n\n" + strings.Repeat("body\n", 2000))); werr != nil {
				break
			}
		}
		cerr := w.Close()
		if !errors.Is(werr, boom) && !errors.Is(cerr, boom) {
			t.Errorf("writer failing after %d bytes: Write %v, Close %v", n, werr, cerr)
		}
	}
}

func TestWriterAfterClose(t *testing.T) {
	rw, _ := inject.NewRewriter(nil)
	var out bytes.Buffer
	w := rw.NewWriter(&out)
	io.WriteString(w, "Subject: a\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("Write after Close succeeded")
	}
	if out.String() != "Subject: a\n" {
		t.Fatalf("wrote %q", out.String())
	}
}

// FuzzWriter checks that a message written to NewWriter in any pieces
// gives the bytes, or the error, that Rewriter.Bytes gives.
func FuzzWriter(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		if len(msg) == 0 {
			return
		}
		// The first bytes choose the sizes of the writes.
		k := min(int(msg[0]%8), len(msg)-1)
		sizes := make([]int, k)
		for i := range k {
			sizes[i] = int(msg[1+i])%64 + 1
		}
		msg = msg[1+k:]
		for _, mode := range []inject.TagsMode{inject.Replace, inject.Merge} {
			rw, err := inject.NewRewriter(fuzzOptions(mode))
			if err != nil {
				t.Fatal(err)
			}
			checkWriterMatches(t, rw, msg, sizes)
			checkWriterMatches(t, rw, msg, []int{1})
		}
	})
}
