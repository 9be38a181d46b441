package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesmime/sesmime"
	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/internal/kcopy"
)

// TestHeaderOfSeveralReads: a header read in several of kcopy.Reader's
// short reads, with a line longer than a read, comes out whole, and so does
// the body the kernel copies after it.
func TestHeaderOfSeveralReads(t *testing.T) {
	dir := t.TempDir()
	var msg strings.Builder
	msg.WriteString("From: a@example.com\r\nSubject: " + strings.Repeat("long ", 2000) + "\r\n")
	for i := 0; msg.Len() < 3*kcopy.HeaderRead; i++ {
		msg.WriteString("X-Filler: " + strings.Repeat("x", 70) + "\r\n")
	}
	msg.WriteString("\r\n" + strings.Repeat("body line\r\n", 50000))
	in := filepath.Join(dir, "in.eml")
	if err := os.WriteFile(in, []byte(msg.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	opts := &inject.Options{ConfigurationSet: "news"}
	want, err := sesmime.RewriteBytes([]byte(msg.String()), opts)
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	out, err := os.Create(filepath.Join(dir, "out.eml"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var stderr bytes.Buffer
	if code := run([]string{"inject", "--config-set", "news"}, stdin, out, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("stdin to stdout: %d bytes, want %d (the library's)", len(got), len(want))
	}
}
