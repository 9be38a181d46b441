package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesmime/sesmime/inject"
)

// TestSettleSyncFails: when syncing a batch's file system fails, no file of
// the batch replaces its original, every temporary file is removed and each
// outcome reports the sync error.
func TestSettleSyncFails(t *testing.T) {
	dir := t.TempDir()
	p := &processor{}
	var batch []outcome
	for i := range 3 {
		orig := filepath.Join(dir, fmt.Sprintf("m%d.eml", i))
		tmp := filepath.Join(dir, fmt.Sprintf("%s%d.tmp", tempPrefix, i))
		writeFiles(t, dir, map[string]string{filepath.Base(orig): "old", filepath.Base(tmp): "new"})
		batch = append(batch, outcome{res: inject.Result{Changed: true}, pend: &pending{
			rename:   func() error { return os.Rename(tmp, orig) },
			exchange: func() error { return exchange(tmp, orig) },
			remove:   func() { os.Remove(tmp) },
			sync:     func() error { return errors.New("disk on fire") },
			tmp:      tmp,
			dir:      dir,
		}})
	}
	p.settle(batch)
	for i, o := range batch {
		if o.err == nil || !strings.Contains(o.err.Error(), "sync: disk on fire") {
			t.Errorf("outcome %d: err %v, want the sync error", i, o.err)
		}
		if o.pend != nil {
			t.Errorf("outcome %d still pending", i)
		}
		if got := readFile(t, filepath.Join(dir, fmt.Sprintf("m%d.eml", i))); got != "old" {
			t.Errorf("m%d.eml = %q, want the original", i, got)
		}
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

// TestInPlaceBatches: -i over many files in several directories, in
// batches with reused temporary files, gives every file its rewrite, keeps
// each file's mode, and leaves no temporary file.
func TestInPlaceBatches(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	const n = 3*maxBatch + 7
	for i := range n {
		files[fmt.Sprintf("d%d/m%04d.eml", i%3, i)] = fmt.Sprintf("Subject: %d\r\nX-SES-CONFIGURATION-SET: old\r\n\r\nbody %d\r\n", i, i)
	}
	writeFiles(t, dir, files)
	// Modes vary from file to file, so that a reused temporary file has
	// another file's mode to correct.
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
		if want := fmt.Sprintf("%d files: %d changed, 0 unchanged, 0 failed", n, n); !strings.Contains(errs, want) {
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

// TestTempPool: the pool gives back what it was given, per directory, is
// bounded, makes room by dropping another directory's files, and drain
// removes what is left.
func TestTempPool(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var tp tempPool
	if _, ok := tp.get("a"); ok {
		t.Fatal("empty pool gave a file")
	}
	for i := range maxPooled {
		if !tp.put("a", mk(fmt.Sprintf("a%d", i))) {
			t.Fatalf("put %d refused below the bound", i)
		}
	}
	if tp.put("a", mk("a-extra")) {
		t.Error("pool full of a's files took another")
	}
	b := mk("b0")
	if !tp.put("b", b) {
		t.Error("pool full of another directory's files refused b's")
	}
	if name, ok := tp.get("b"); !ok || name != b {
		t.Errorf("get(b) = %q, %v; want %q", name, ok, b)
	}
	if _, err := os.Stat(filepath.Join(dir, "a0")); !os.IsNotExist(err) {
		t.Error("a's files were not removed to make room")
	}
	tp.put("b", b)
	if err := tp.drain(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(b); !os.IsNotExist(err) {
		t.Error("drain left a pooled file")
	}
	if _, ok := tp.get("b"); ok {
		t.Error("drained pool gave a file")
	}
}

// TestTempPoolTakeOther: takeOther gives a file of another directory than
// the one asked for, first of one other than the latest put's.
func TestTempPoolTakeOther(t *testing.T) {
	var tp tempPool
	tp.put("a", "a/1")
	tp.put("b", "b/1") // b is the latest put's directory
	if _, ok := tp.takeOther("c"); !ok {
		t.Fatal("takeOther(c) found nothing")
	}
	if name, ok := tp.get("b"); !ok || name != "b/1" {
		t.Errorf("takeOther took b's file before a's: get(b) = %q, %v", name, ok)
	}
	tp.put("b", "b/1")
	if name, ok := tp.takeOther("b"); ok {
		t.Errorf("takeOther(b) = %q, want nothing: only b's file is left", name)
	}
	if name, ok := tp.takeOther("c"); !ok || name != "b/1" {
		t.Errorf("takeOther(c) = %q, %v; want b/1", name, ok)
	}
	if tp.n != 0 || len(tp.byDir) != 0 {
		t.Errorf("pool not empty after taking everything: n %d, %v", tp.n, tp.byDir)
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
