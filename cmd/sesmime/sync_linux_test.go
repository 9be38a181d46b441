package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sesmime/sesmime/inject"
)

// TestOwnTemp: a pooled file is reused only when it is the process's own,
// and of its group unless the process is root.
func TestOwnTemp(t *testing.T) {
	euid, egid := effectiveIDs()
	tests := []struct {
		name     string
		uid, gid uint32
		want     bool
	}{
		{"own user and group", euid, egid, true},
		{"another user", euid + 1, egid, false},
		{"another group", euid, egid + 1, euid == 0},
	}
	for _, tt := range tests {
		if got := ownTemp(&syscall.Stat_t{Uid: tt.uid, Gid: tt.gid}); got != tt.want {
			t.Errorf("%s: ownTemp = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestReuseSparesOtherLinks: an original with another hard link, or with an
// extended attribute, is never overwritten as a later file's temporary
// file: the other link keeps the old message and no other file gets the
// attribute.
func TestReuseSparesOtherLinks(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"keep/link.eml": "Subject: linked\r\n\r\nold\r\n"}
	for i := range 2 * maxBatch {
		files[fmt.Sprintf("m/%04d.eml", i)] = fmt.Sprintf("Subject: %d\r\n\r\nold %d\r\n", i, i)
	}
	writeFiles(t, dir, files)
	chdir(t, dir)
	if err := os.Link("keep/link.eml", "m/0000.eml.tmp-link"); err != nil {
		t.Fatal(err)
	}
	// m/0000.eml and keep/link.eml: the same inode.
	if err := os.Rename("m/0000.eml.tmp-link", "m/0000.eml"); err != nil {
		t.Fatal(err)
	}
	xattr := syscall.Setxattr("m/0001.eml", "user.sesmime-test", []byte("secret"), 0) == nil
	code, _, errs := runT(t, "", "inject", "-i", "-r", "-j", "1", "--config-set", "news", "m")
	if code != 0 {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
	if got := readFile(t, "keep/link.eml"); got != "Subject: linked\r\n\r\nold\r\n" {
		t.Errorf("the other link of a rewritten file changed: %q", got)
	}
	if !xattr {
		t.Log("no user extended attributes here: that half is not tested")
		return
	}
	ents, _ := os.ReadDir("m")
	buf := make([]byte, 64)
	for _, e := range ents {
		if _, err := syscall.Getxattr(filepath.Join("m", e.Name()), "user.sesmime-test", buf); err == nil {
			t.Errorf("%s got the attribute of another message", e.Name())
		}
	}
}

// TestExchangedWaitForNextSync: the original an exchange leaves under a
// temporary name is pooled for reuse only after a later sync of its own
// file system (another batch's, started after the exchange), not after the
// sync of its batch, which ran before the exchange; the run's finish
// removes the originals still waiting.
func TestExchangedWaitForNextSync(t *testing.T) {
	dir := t.TempDir()
	p := &processor{}
	syncs := map[uint64]int{}
	pendingFile := func(name string, dev uint64) outcome {
		orig := filepath.Join(dir, name)
		tmp := filepath.Join(dir, tempPrefix+name)
		writeFiles(t, dir, map[string]string{name: "old " + name, tempPrefix + name: "new " + name})
		return outcome{pend: &pending{
			rename:   func() error { return os.Rename(tmp, orig) },
			exchange: func() error { return exchange(tmp, orig) },
			remove:   func() { os.Remove(tmp) },
			sync:     func() error { syncs[dev]++; return nil },
			dev:      dev,
			tmp:      tmp,
			dir:      dir,
		}}
	}
	pooled := func() []string {
		var names []string
		for {
			name, ok := p.pool.get(dir)
			if !ok {
				break
			}
			names = append(names, filepath.Base(name))
		}
		for _, n := range names {
			p.pool.put(dir, filepath.Join(dir, n))
		}
		return names
	}

	p.settle([]outcome{pendingFile("a", 1)})
	if got := readFile(t, filepath.Join(dir, "a")); got != "new a" {
		t.Fatalf("a = %q after its batch", got)
	}
	if got := readFile(t, filepath.Join(dir, tempPrefix+"a")); got != "old a" {
		t.Fatalf("the exchange left %q under the temporary name, want the original", got)
	}
	if got := pooled(); len(got) != 0 {
		t.Errorf("pooled %q after the batch's own sync, want nothing yet", got)
	}
	p.settle([]outcome{pendingFile("b", 2)}) // another file system's sync
	if got := pooled(); len(got) != 0 {
		t.Errorf("pooled %q after another file system's sync, want nothing yet", got)
	}
	p.settle([]outcome{pendingFile("c", 1)})
	if got := pooled(); len(got) != 1 || got[0] != tempPrefix+"a" {
		t.Errorf("pooled %q after the next sync of a's file system, want a's original", got)
	}
	if syncs[1] != 2 || syncs[2] != 1 {
		t.Errorf("syncs per file system %v, want one per batch", syncs)
	}
	p.renamed.Range(func(k, _ any) bool { p.renamed.Delete(k); return true }) // no final syncs to count
	if err := p.finish(); err != nil {
		t.Fatal(err)
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left after finish: %q", left)
	}
}

// otherFSDir returns a new directory under /dev/shm (tmpfs), removed when
// the test ends; it skips the test when there is none or it is on the file
// system of dir.
func otherFSDir(t *testing.T, dir string) string {
	t.Helper()
	other, err := os.MkdirTemp("/dev/shm", "sesmime-test-")
	if err != nil {
		t.Skip("no /dev/shm:", err)
	}
	t.Cleanup(func() { os.RemoveAll(other) })
	var a, b syscall.Stat_t
	if syscall.Stat(other, &a) != nil || syscall.Stat(dir, &b) != nil || a.Dev == b.Dev {
		t.Skip("/dev/shm is on the same file system as", dir)
	}
	return other
}

// TestToDirSyncsTheOutputFileSystem: a file written under -o DIR waits for
// the sync of the file system it is written on, which may be another than
// its input's (here tmpfs, /dev/shm, against the test's temporary
// directory): grouped by the input's, a batch would sync the wrong one and
// rename files whose bytes are not on disk.
func TestToDirSyncsTheOutputFileSystem(t *testing.T) {
	inDir := t.TempDir()
	outDir := otherFSDir(t, inDir)
	dev := func(path string) uint64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return devOf(fi)
	}
	writeFiles(t, inDir, map[string]string{"a.eml": "Subject: a\r\n\r\nbody\r\n"})
	chdir(t, inDir)
	root, err := os.OpenRoot(outDir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	rw, err := inject.NewRewriter(&inject.Options{ConfigurationSet: "news"})
	if err != nil {
		t.Fatal(err)
	}
	p := &processor{c: &config{outDir: outDir}, rw: rw, root: root}
	_, pend, err := p.toDir("a.eml", "a.eml")
	if err != nil || pend == nil {
		t.Fatalf("toDir: pending %v, err %v", pend, err)
	}
	defer pend.remove()
	if pend.dev != dev(outDir) {
		t.Errorf("pending file's file system %d, want the output's %d (the input's is %d)", pend.dev, dev(outDir), dev(inDir))
	}
}
