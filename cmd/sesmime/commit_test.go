package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sesmime/sesmime/inject"
)

// TestCommitWriteFails: when writing the temporary file fails midway, the
// original is not replaced and the temporary file is removed.
func TestCommitWriteFails(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "a.eml")
	msg := "Subject: a\r\n\r\n" + string(make([]byte, 1<<20))
	if err := os.WriteFile(orig, []byte(msg), 0o640); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(orig)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	fi, _ := in.Stat()
	tmpName := filepath.Join(dir, tempPrefix+"x.tmp")
	if err := os.WriteFile(tmpName, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.Open(tmpName) // read-only: every write fails
	if err != nil {
		t.Fatal(err)
	}
	rw, err := inject.NewRewriter(&inject.Options{ConfigurationSet: "news"})
	if err != nil {
		t.Fatal(err)
	}
	renamed, removed := false, false
	c := &commitment{
		pending: &pending{
			rename: func() error { renamed = true; return os.Rename(tmpName, orig) },
			remove: func() { removed = true; os.Remove(tmpName) },
			sync:   func() error { return nil },
		},
		file: tmp,
		fi:   fi,
	}
	_, pend, err := c.write(func(f *os.File) (inject.Result, error) { return rw.Rewrite(f, in) })
	if err == nil || pend != nil {
		t.Fatalf("write to a read-only file: err %v, pending %v", err, pend)
	}
	if renamed || !removed {
		t.Errorf("renamed %v, removed %v; want false, true", renamed, removed)
	}
	if b, _ := os.ReadFile(orig); string(b) != msg {
		t.Error("original changed")
	}
	if _, err := os.Stat(tmpName); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}
}
