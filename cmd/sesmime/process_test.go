package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesmime/sesmime/inject"
)

// TestKernelReaderReadsLittle: a kernelReader hands the header's
// bufio.Reader at most headerRead bytes a read, so that the body is left to
// the kernel; a header of several reads, and one line longer than a read,
// still come out whole, file to file and stdin to stdout.
func TestKernelReaderReadsLittle(t *testing.T) {
	dir := t.TempDir()
	var msg strings.Builder
	msg.WriteString("From: a@example.com\r\nSubject: " + strings.Repeat("long ", 2000) + "\r\n")
	for i := 0; msg.Len() < 3*headerRead; i++ {
		msg.WriteString("X-Filler: " + strings.Repeat("x", 70) + "\r\n")
	}
	msg.WriteString("\r\n" + strings.Repeat("body line\r\n", 50000))
	in := filepath.Join(dir, "in.eml")
	if err := os.WriteFile(in, []byte(msg.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	n, err := kernelReader{f}.Read(make([]byte, 16<<10))
	f.Close()
	if err != nil || n != headerRead {
		t.Fatalf("Read of 16 KiB = %d, %v; want %d", n, err, headerRead)
	}

	opts := &inject.Options{ConfigurationSet: "news"}
	want, err := inject.Bytes([]byte(msg.String()), opts)
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
