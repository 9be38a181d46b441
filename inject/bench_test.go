package inject_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/sesmime/sesmime/bench/msggen"
	"github.com/sesmime/sesmime/inject"
)

// A benchMsg is one generated message the benchmarks run on.
type benchMsg struct {
	name string
	size int // total bytes
	hdrs int // extra header fields beyond the usual ~20
}

// benchMsgs are multipart messages with base64 attachments (see
// bench/msggen), and one with a 2,000-field header.
var benchMsgs = []benchMsg{
	{"4KiB", 4 << 10, 0},
	{"200KiB", 200 << 10, 0},
	{"10MiB", 10 << 20, 0},
	{"40MiB", 40 << 20, 0},
	{"2000fields", 256 << 10, 1980},
}

// sink is a writer that reads every byte it is given, like a file or
// socket would: io.Discard would let bytes.Reader.WriteTo skip the copy.
type sink struct {
	scratch [32 << 10]byte
	sum     byte
}

func (s *sink) Write(p []byte) (int, error) {
	for k := 0; k < len(p); {
		n := copy(s.scratch[:], p[k:])
		s.sum += s.scratch[n-1]
		k += n
	}
	return len(p), nil
}

// BenchmarkRewrite runs, for each message, the io.Copy baseline of the same
// bytes to the same kind of writer ("copy"), then Rewrite with one reused
// Rewriter ("reused") and with a fresh one per message ("fresh"). Compare
// the MB/s of each with its "copy" line (bench/benchtab prints the ratios).
func BenchmarkRewrite(b *testing.B) {
	for _, m := range benchMsgs {
		msg := msggen.Message(m.size, m.hdrs)
		b.Run(m.name+"/copy", func(b *testing.B) {
			w := new(sink)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := io.Copy(w, bytes.NewReader(msg)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(m.name+"/reused", func(b *testing.B) {
			rw, err := inject.NewRewriter(streamOpts)
			if err != nil {
				b.Fatal(err)
			}
			w := new(sink)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rw.Rewrite(w, bytes.NewReader(msg)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(m.name+"/fresh", func(b *testing.B) {
			w := new(sink)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rewrite(w, bytes.NewReader(msg), streamOpts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBytes runs the []byte API with a reused Rewriter ("bytes") next
// to its baseline, a plain copy of the message into a new slice ("clone"):
// both pay for a fresh output slice of the message's size.
func BenchmarkBytes(b *testing.B) {
	for _, m := range benchMsgs {
		msg := msggen.Message(m.size, m.hdrs)
		b.Run(m.name+"/clone", func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if out := bytes.Clone(msg); len(out) != len(msg) {
					b.Fatal("short clone")
				}
			}
		})
		b.Run(m.name+"/bytes", func(b *testing.B) {
			rw, err := inject.NewRewriter(streamOpts)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := rw.Bytes(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
