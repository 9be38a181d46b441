package inject_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/sesmime/sesmime/inject"
)

var benchSizes = []int{4 << 10, 200 << 10, 10 << 20}

// sink is a writer that reads every byte it is given (io.Discard would let
// bytes.Reader.WriteTo skip the copy entirely), like a file or socket.
type sink struct{ scratch [32 << 10]byte }

func (s *sink) Write(p []byte) (int, error) {
	for k := 0; k < len(p); {
		k += copy(s.scratch[:], p[k:])
	}
	return len(p), nil
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}

// BenchmarkCopy is the baseline: a bare io.Copy of the same bytes.
func BenchmarkCopy(b *testing.B) {
	for _, size := range benchSizes {
		msg := genMessage(size)
		b.Run(sizeName(size), func(b *testing.B) {
			w := new(sink)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := io.Copy(w, bytes.NewReader(msg)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRewrite(b *testing.B) {
	for _, size := range benchSizes {
		msg := genMessage(size)
		b.Run(sizeName(size)+"/reused", func(b *testing.B) {
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
		b.Run(sizeName(size)+"/fresh", func(b *testing.B) {
			w := new(sink)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := inject.Rewrite(w, bytes.NewReader(msg), streamOpts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBytes(b *testing.B) {
	for _, size := range benchSizes {
		msg := genMessage(size)
		b.Run(sizeName(size), func(b *testing.B) {
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
