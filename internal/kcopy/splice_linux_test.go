package kcopy

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestSpliceFileToFile: the rest of a regular file goes to another through
// a pipe of sesmime's own, after what each already had, at any offsets;
// an output in append mode is left to the caller, with nothing moved.
func TestSpliceFileToFile(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 3<<20+12345)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name        string
		skip, shift int // bytes of src read before; bytes in dst before
		appendMode  bool
	}{
		{"aligned", 0, 0, false},
		{"body at another page offset", 4096, 4097, false},
		{"odd offsets", 1000, 33, false},
		{"append mode", 10, 0, true},
	} {
		in, err := os.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := in.Seek(int64(tt.skip), io.SeekStart); err != nil {
			t.Fatal(err)
		}
		flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if tt.appendMode {
			flag |= os.O_APPEND
		}
		dst := filepath.Join(dir, "dst")
		out, err := os.OpenFile(dst, flag, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		prefix := bytes.Repeat([]byte{'h'}, tt.shift)
		out.Write(prefix)
		n, handled, err := Splice(context.Background(), out, in)
		in.Close()
		out.Close()
		if tt.appendMode {
			if handled || n != 0 || err != nil {
				t.Errorf("%s: n %d, handled %v, err %v; want nothing done", tt.name, n, handled, err)
			}
			continue
		}
		if !handled || err != nil || n != int64(len(data)-tt.skip) {
			t.Fatalf("%s: n %d, handled %v, err %v; want %d bytes", tt.name, n, handled, err, len(data)-tt.skip)
		}
		got, _ := os.ReadFile(dst)
		if want := append(prefix, data[tt.skip:]...); !bytes.Equal(got, want) {
			t.Errorf("%s: output differs (%d bytes, want %d)", tt.name, len(got), len(want))
		}
	}
}
