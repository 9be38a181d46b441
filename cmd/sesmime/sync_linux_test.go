package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOwnTemp: a pooled file is reused only when it is the process's own,
// and of its group unless the process is root.
func TestOwnTemp(t *testing.T) {
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
