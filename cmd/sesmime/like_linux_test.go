package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestNewFileMatches: a reused temporary file must have the group a new
// file would get in a set-group-ID directory, and the inode flags the
// directory passes on.
func TestNewFileMatches(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	own := inodeFlags(fd) & inheritedFlags
	tests := []struct {
		name string
		nf   newFile
		gid  uint32
		want bool
	}{
		{"plain directory", newFile{flags: own}, 7, true},
		{"set-group-ID, the directory's group", newFile{setgid: true, gid: 7, flags: own}, 7, true},
		{"set-group-ID, another group", newFile{setgid: true, gid: 7, flags: own}, 8, false},
		{"the directory passes on a flag the file lacks", newFile{flags: own | flNoDump}, 7, own&flNoDump != 0},
	}
	for _, tt := range tests {
		if got := tt.nf.matches(fd, &syscall.Stat_t{Gid: tt.gid}); got != tt.want {
			t.Errorf("%s: matches = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestTempMovesToTheNextDirectory: when a directory has no pooled file of
// its own, a pooled file of another directory is moved into it and reused,
// not deleted there and created anew here; unless a new file here would
// not be like it.
func TestTempMovesToTheNextDirectory(t *testing.T) {
	tests := []struct {
		name string
		// prepare changes the next directory; it returns false to skip the
		// case where the file system or the user cannot.
		prepare func(t *testing.T, dir string) bool
		moved   bool
	}{
		{"plain directory", func(*testing.T, string) bool { return true }, true},
		{"default ACL", setDefaultACL, false},
		{"inherited flag", func(t *testing.T, dir string) bool { return setFlag(t, dir, flNoDump) }, false},
		{"set-group-ID, another group", func(t *testing.T, dir string) bool {
			_, egid := effectiveIDs()
			return os.Chown(dir, -1, int(egid)+1) == nil && os.Chmod(dir, 0o755|os.ModeSetgid) == nil
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			last, next := filepath.Join(root, "last"), filepath.Join(root, "next")
			for _, d := range []string{last, next} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if !tt.prepare(t, next) {
				t.Skip("the file system or the user cannot set this up")
			}
			p, old := poolOld(t, last, 0o644)
			var oldSt syscall.Stat_t
			if err := syscall.Stat(old, &oldSt); err != nil {
				t.Fatal(err)
			}
			name, st, reused := tempIn(t, p, next)
			defer os.Remove(name)
			if filepath.Dir(name) != next {
				t.Errorf("temporary file %s, want one in %s", name, next)
			}
			if moved := reused && st.Ino == oldSt.Ino; moved != tt.moved {
				t.Errorf("reused the last directory's file: %v, want %v", moved, tt.moved)
			}
			if fi, err := os.Stat(name); err != nil || reused && fi.Mode().Perm() != 0o600 {
				t.Errorf("a moved file holding an old message: %v, %v; want it readable by its owner only", fi.Mode(), err)
			}
			// A file not moved is left pooled (the directory is never fit for
			// reuse) or removed (it was not fit here).
			if _, err := os.Lstat(old); err == nil {
				if tt.moved {
					t.Errorf("%s is still there after it was moved", old)
				} else if got, ok := p.pool.get(last); !ok || got != old {
					t.Errorf("%s is still there but not pooled", old)
				}
			}
			if left := tempFiles(t, next); len(left) != 1 || left[0] != name {
				t.Errorf("temporary files in %s: %q, want only %s", next, left, filepath.Base(name))
			}
		})
	}
}

// poolOld writes an old message under a temporary name in dir, with the
// mode bits perm, and returns a processor whose pool holds it.
func poolOld(t *testing.T, dir string, perm os.FileMode) (*processor, string) {
	t.Helper()
	old := filepath.Join(dir, tempPrefix+"old")
	if err := os.WriteFile(old, []byte("an old message"), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(old, perm); err != nil { // whatever the umask
		t.Fatal(err)
	}
	p := &processor{}
	p.pool.put(dir, old)
	return p, old
}

// tempIn returns the temporary file p.tempFD gives for dir, closed.
func tempIn(t *testing.T, p *processor, dir string) (name string, st syscall.Stat_t, reused bool) {
	t.Helper()
	fd, name, st, reused, err := p.tempFD(dir)
	if err != nil {
		t.Fatal(err)
	}
	syscall.Close(fd)
	return name, st, reused
}

// setDefaultACL gives dir a default ACL (user::rw-, group::r--, other::r--).
func setDefaultACL(t *testing.T, dir string) bool {
	t.Helper()
	acl := binary.LittleEndian.AppendUint32(nil, 2) // POSIX_ACL_XATTR_VERSION
	for _, e := range []struct {
		tag, perm uint16
	}{{0x01, 6}, {0x04, 4}, {0x20, 4}} { // ACL_USER_OBJ, ACL_GROUP_OBJ, ACL_OTHER
		acl = binary.LittleEndian.AppendUint16(acl, e.tag)
		acl = binary.LittleEndian.AppendUint16(acl, e.perm)
		acl = binary.LittleEndian.AppendUint32(acl, 0xffffffff) // ACL_UNDEFINED_ID
	}
	return unix.Setxattr(dir, "system.posix_acl_default", acl, 0) == nil
}

// setFlag sets the inode flag fl on dir (as chattr does).
func setFlag(t *testing.T, dir string, fl uint32) bool {
	t.Helper()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fd := int(d.Fd())
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		return false
	}
	if err := unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, int(flags|fl)); err != nil {
		return false
	}
	return inodeFlags(fd)&fl != 0
}

// TestRewrittenFilesLikeNewOnes: with -i, every rewritten file has the
// inode flags a new file in its directory has, whatever temporary file it
// was written to: a swapped-out original with a flag of its own (here d,
// no dump, set on one message) is not reused for another message, and the
// files pooled in one directory are not reused in the next one when it
// passes on a flag they lack.
func TestRewrittenFilesLikeNewOnes(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for _, d := range []string{"last", "next"} {
		for i := range 2 * maxBatch {
			files[fmt.Sprintf("%s/%04d.eml", d, i)] = fmt.Sprintf("Subject: %s %d\r\n\r\nold\r\n", d, i)
		}
	}
	writeFiles(t, dir, files)
	chdir(t, dir)
	if !setFlag(t, "last/0000.eml", flNoDump) || !setFlag(t, "next", flNoDump) {
		t.Skip("the file system cannot set the no-dump flag")
	}
	code, _, errs := runT(t, "", "inject", "-i", "-r", "-j", "1", "--config-set", "news", ".")
	if code != 0 {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
	for name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		got := inodeFlags(int(f.Fd()))&flNoDump != 0
		f.Close()
		if want := filepath.Dir(name) == "next"; got != want {
			t.Errorf("%s: no-dump flag %v, want %v (as a new file in its directory)", name, got, want)
		}
		if !strings.HasPrefix(readFile(t, name), "X-SES-CONFIGURATION-SET: news\r\n") {
			t.Errorf("%s was not rewritten", name)
		}
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

// TestTempNotMovedAcrossFileSystems: a pooled file on another file system
// (here tmpfs, /dev/shm) cannot be renamed into the directory: it is
// removed, and the directory gets a new temporary file.
func TestTempNotMovedAcrossFileSystems(t *testing.T) {
	dir := t.TempDir()
	other := otherFSDir(t, dir)
	p, old := poolOld(t, other, 0o600)
	name, _, reused := tempIn(t, p, dir)
	if reused || filepath.Dir(name) != dir {
		t.Errorf("tempFD = %s, reused %v; want a new file in %s", name, reused, dir)
	}
	if _, err := os.Lstat(old); err == nil {
		t.Errorf("%s is still there: a file that cannot move is not needed any more", old)
	}
	if _, ok := p.pool.takeOther(dir); ok {
		t.Error("the pool still lists the file")
	}
}
