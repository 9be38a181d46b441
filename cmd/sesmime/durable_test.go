package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInPlaceBatches: -i over many files in several directories, in
// several batches (their file limit grows from 64), gives every file its
// rewrite, keeps each file's mode, and leaves no temporary file.
func TestInPlaceBatches(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	const n = 700
	for i := range n {
		files[fmt.Sprintf("d%d/m%04d.eml", i%3, i)] = fmt.Sprintf("Subject: %d\r\nX-SES-CONFIGURATION-SET: old\r\n\r\nbody %d\r\n", i, i)
	}
	writeFiles(t, dir, files)
	// Modes vary from file to file.
	modes := []os.FileMode{0o600, 0o640, 0o644, 0o604}
	modeOf := func(i int) os.FileMode { return modes[(i/5)%len(modes)] }
	for name := range files {
		var i int
		fmt.Sscanf(filepath.Base(name), "m%d.eml", &i)
		if err := os.Chmod(filepath.Join(dir, name), modeOf(i)); err != nil {
			t.Fatal(err)
		}
	}
	chdir(t, dir)
	for _, j := range []string{"1", "2"} {
		code, _, errs := runT(t, "", "inject", "-i", "-r", "-j", j, "--config-set", "v"+j, ".")
		if code != 0 {
			t.Fatalf("-j %s: code %d, stderr %q", j, code, errs)
		}
		if want := fmt.Sprintf("%s files: %s changed, 0 unchanged, 0 failed", itoa(n), itoa(n)); !strings.Contains(errs, want) {
			t.Errorf("-j %s summary %q, want %q", j, errs, want)
		}
		for name := range files {
			var i int
			fmt.Sscanf(filepath.Base(name), "m%d.eml", &i)
			want := fmt.Sprintf("Subject: %d\r\nX-SES-CONFIGURATION-SET: v%s\r\n\r\nbody %d\r\n", i, j, i)
			if got := readFile(t, name); got != want {
				t.Fatalf("-j %s: %s = %q, want %q", j, name, got, want)
			}
			if fi, _ := os.Stat(name); fi.Mode() != modeOf(i) {
				t.Fatalf("-j %s: %s mode %v, want %v", j, name, fi.Mode(), modeOf(i))
			}
		}
		if left := tempFiles(t, dir); len(left) > 0 {
			t.Errorf("-j %s: temporary files left: %q", j, left)
		}
	}
}

// TestReadSmall: a file read whole reports io.EOF with all its bytes,
// whatever its stat size said; a larger one fills the buffer.
func TestReadSmall(t *testing.T) {
	tests := []struct {
		name      string
		data      int   // bytes in the file
		size      int64 // what stat said
		wantN     int
		wantWhole bool
	}{
		{"as stated", 100, 100, 100, true},
		{"empty", 0, 0, 0, true},
		{"grew since stat", 150, 100, 150, true},
		{"shrank since stat", 80, 100, 80, true},
		{"fills the buffer", 256, 256, 256, false},
		{"larger than the buffer", 1000, 1000, 256, false},
		{"grew past the buffer", 1000, 100, 256, false},
	}
	for _, tt := range tests {
		buf := make([]byte, 256)
		n, err := readSmall(bytes.NewReader(make([]byte, tt.data)), buf, tt.size)
		if n != tt.wantN || (err == io.EOF) != tt.wantWhole || (err != nil && err != io.EOF) {
			t.Errorf("%s: n %d, err %v; want %d, whole %v", tt.name, n, err, tt.wantN, tt.wantWhole)
		}
	}
}
