package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeQueued creates, writes and queues a new file for target.
func writeQueued(t *testing.T, c *Committer, target, data string) *File {
	t.Helper()
	f, err := c.Create(target)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
	f.Queue()
	return f
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func temps(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, TempPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCommit: committed files replace their targets; a descriptor opened
// on a target before keeps reading the old file; no temporary file is left.
func TestCommit(t *testing.T) {
	dir := t.TempDir()
	var c Committer
	var files []*File
	for i := range 5 {
		target := filepath.Join(dir, fmt.Sprintf("f%d", i))
		if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, writeQueued(t, &c, target, fmt.Sprintf("new %d", i)))
	}
	old, err := os.Open(filepath.Join(dir, "f0"))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	for i, err := range c.Commit(files) {
		if err != nil {
			t.Errorf("file %d: %v", i, err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if got, want := readFile(t, filepath.Join(dir, fmt.Sprintf("f%d", i))), fmt.Sprintf("new %d", i); got != want {
			t.Errorf("f%d = %q, want %q", i, got, want)
		}
	}
	if b, _ := io.ReadAll(old); string(b) != "old" {
		t.Errorf("descriptor opened before reads %q, want the old file", b)
	}
	if left := temps(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

// TestTempOwnerOnly: a file being written is readable by its owner only,
// whatever the mode it will be given.
func TestTempOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	var c Committer
	target := filepath.Join(dir, "f")
	f, err := c.Create(target)
	if err != nil {
		t.Fatal(err)
	}
	f.SetMetadata(&Metadata{Mode: 0o644, UID: -1, GID: -1})
	f.WriteString("new")
	f.Queue()
	fi, err := os.Stat(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("queued temporary file has mode %v, want owner-only", fi.Mode())
	}
	if err := c.Commit([]*File{f})[0]; err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o644 {
		t.Errorf("committed file has mode %v, want 0644", fi.Mode())
	}
	c.Close()
}

// TestBarrierFails: when a barrier fails, every file queued on it, and
// every file that was being written while it ran, fails with its error and
// leaves its target untouched; a file begun after it commits.
func TestBarrierFails(t *testing.T) {
	dir := t.TempDir()
	fail := errors.New("disk on fire")
	calls := 0
	c := &Committer{Barrier: func(*os.File) error {
		calls++
		if calls == 1 {
			return fail
		}
		return nil
	}}
	target := func(i int) string { return filepath.Join(dir, fmt.Sprintf("f%d", i)) }
	for i := range 4 {
		if err := os.WriteFile(target(i), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	batch := []*File{writeQueued(t, c, target(0), "new"), writeQueued(t, c, target(1), "new")}
	// Being written while the failing barrier runs: its writeback error may
	// be the one that barrier reported.
	during, err := c.Create(target(2))
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range c.Commit(batch) {
		if !errors.Is(err, fail) {
			t.Errorf("queued file %d: err %v, want the barrier's", i, err)
		}
	}
	during.WriteString("new")
	during.Queue()
	if err := c.Commit([]*File{during})[0]; !errors.Is(err, fail) {
		t.Errorf("file written during the failed barrier: err %v, want the barrier's", err)
	}
	after := writeQueued(t, c, target(3), "new")
	if err := c.Commit([]*File{after})[0]; err != nil {
		t.Errorf("file begun after the failure: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"old", "old", "old", "new"} {
		if got := readFile(t, target(i)); got != want {
			t.Errorf("f%d = %q, want %q", i, got, want)
		}
	}
	if left := temps(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

// TestOneBarrierForConcurrentCommits: files queued by several writers are
// committed by one barrier when they are all queued when it starts.
func TestOneBarrierForConcurrentCommits(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	calls := 0
	c := &Committer{Barrier: func(*os.File) error { mu.Lock(); calls++; mu.Unlock(); return nil }}
	var all [][]*File
	for w := range 3 {
		var fs []*File
		for i := range 10 {
			fs = append(fs, writeQueued(t, c, filepath.Join(dir, fmt.Sprintf("w%d-%d", w, i)), "new"))
		}
		all = append(all, fs)
	}
	var wg sync.WaitGroup
	for _, fs := range all {
		wg.Go(func() {
			for _, err := range c.Commit(fs) {
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if calls != 1 {
		t.Errorf("%d barriers for 30 files queued before the first, want 1", calls)
	}
	c.Close()
	if calls != 2 {
		t.Errorf("%d barriers after Close, want 2 (the last for the renames)", calls)
	}
}

// TestAbort: an aborted file leaves nothing behind and its target alone.
func TestAbort(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "f")
	os.WriteFile(target, []byte("old"), 0o600)
	var c Committer
	f, err := c.Create(target)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new")
	f.Abort()
	c.Close()
	if got := readFile(t, target); got != "old" {
		t.Errorf("target %q, want old", got)
	}
	if left := temps(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

// TestCreateInRoot: a target inside a root cannot lead outside it.
func TestCreateInRoot(t *testing.T) {
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	var c Committer
	if _, err := c.CreateIn(root, "../escape"); err == nil {
		t.Fatal("CreateIn ../escape succeeded")
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	f, err := c.CreateIn(root, "sub/out")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new")
	f.Queue()
	if err := c.Commit([]*File{f})[0]; err != nil {
		t.Fatal(err)
	}
	c.Close()
	if got := readFile(t, filepath.Join(dir, "sub/out")); !strings.EqualFold(got, "new") {
		t.Errorf("out = %q", got)
	}
}

// TestFlushWaitsForCommits: Flush returns only when the batches other
// callers took are renamed too, so a writer out of space that flushes
// finds their originals' space freed (and Ended counting them).
func TestFlushWaitsForCommits(t *testing.T) {
	dir := t.TempDir()
	inBarrier, release := make(chan struct{}), make(chan struct{})
	first := true
	c := &Committer{Barrier: func(*os.File) error {
		if first {
			first = false
			close(inBarrier)
			<-release
		}
		return nil
	}}
	const n = 50
	var batch []*File
	for i := range n {
		batch = append(batch, writeQueued(t, c, filepath.Join(dir, fmt.Sprintf("f%d", i)), "new"))
	}
	committed := make(chan []error)
	go func() { committed <- c.Commit(batch) }()
	<-inBarrier
	flushed := make(chan uint64)
	go func() { c.Flush(); flushed <- c.Ended() }()
	close(release)
	if got := <-flushed; got != n {
		t.Errorf("Flush returned with %d files ended, want %d", got, n)
	}
	for _, err := range <-committed {
		if err != nil {
			t.Error(err)
		}
	}
	c.Close()
}

// TestFull: a batch is full at its file limit, at 64 MiB or after a
// second; the limit doubles with each barrier that succeeds, up to
// MaxBatch, halves with a Flush (a writer out of space), and stays put
// when a barrier fails.
func TestFull(t *testing.T) {
	dir := t.TempDir()
	fail := false
	c := &Committer{Barrier: func(*os.File) error {
		if fail {
			return errors.New("disk on fire")
		}
		return nil
	}}
	limit := func() int {
		n := 1
		for !c.Full(n, 0, 0) {
			n++
		}
		return n
	}
	commit := func() {
		f := writeQueued(t, c, filepath.Join(dir, "f"), "new")
		c.Commit([]*File{f})
	}
	if got := limit(); got != 64 {
		t.Errorf("first limit %d, want 64", got)
	}
	if !c.Full(1, 64<<20, 0) || !c.Full(1, 0, time.Second) || c.Full(1, 64<<20-1, time.Second-1) {
		t.Error("bytes or age bounds wrong")
	}
	for _, tt := range []struct {
		step string
		want int
	}{
		{"commit", 128}, {"commit", 256}, {"commit", MaxBatch}, {"commit", MaxBatch},
		{"flush", MaxBatch / 2}, {"fail", MaxBatch / 2}, {"flush", MaxBatch / 4},
		{"flush", 64}, {"flush", 32}, {"flush", 16}, {"flush", 8}, {"flush", 8}, {"commit", 16},
	} {
		switch tt.step {
		case "commit":
			commit()
		case "fail":
			fail = true
			commit()
			fail = false
		case "flush":
			c.Flush()
		}
		if got := limit(); got != tt.want {
			t.Errorf("after %s: limit %d, want %d", tt.step, got, tt.want)
		}
	}
	c.Close()
}
