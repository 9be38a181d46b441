package kcopy

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestReader: a Reader reads at most HeaderRead bytes at a time, and its
// WriteTo copies exactly what was not read, to a file (in the kernel) and
// to any other writer (with io.Copy).
func TestReader(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("0123456789abcdef"), 40000) // 640,000 bytes
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, toFile := range []bool{true, false} {
		f, err := os.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		r := NewReader(f)
		head := make([]byte, 16<<10)
		n, err := r.Read(head)
		if err != nil || n != HeaderRead {
			t.Fatalf("Read of 16 KiB = %d, %v; want %d", n, err, HeaderRead)
		}
		var got []byte
		if toFile {
			out, err := os.Create(filepath.Join(dir, "out"))
			if err != nil {
				t.Fatal(err)
			}
			m, err := r.WriteTo(out)
			out.Close()
			if err != nil || m != int64(len(data)-n) {
				t.Fatalf("WriteTo a file: %d, %v; want %d", m, err, len(data)-n)
			}
			got, _ = os.ReadFile(out.Name())
		} else {
			var buf bytes.Buffer
			m, err := r.WriteTo(struct{ io.Writer }{&buf})
			if err != nil || m != int64(len(data)-n) {
				t.Fatalf("WriteTo a writer: %d, %v; want %d", m, err, len(data)-n)
			}
			got = buf.Bytes()
		}
		f.Close()
		if !bytes.Equal(got, data[n:]) {
			t.Errorf("to a file %v: the copy differs from the input past the read", toFile)
		}
	}
}
