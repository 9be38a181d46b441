//go:build linux

package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sesmime/sesmime"
	"github.com/sesmime/sesmime/inject"
)

// The tests of what -i promises: old or new, never mixed, never another
// message, never readable by anyone who could not read it, metadata kept.

// marked returns message i of a tree: unique, and larger than smallFile
// when big, so that both ways of reading are covered.
func marked(i int, big bool) string {
	body := fmt.Sprintf("body of %d\r\n", i)
	if big {
		body += strings.Repeat(fmt.Sprintf("line %d of a large message\r\n", i), 3000)
	}
	return fmt.Sprintf("From: a%d@example.com\r\nSubject: message %d\r\n\r\n%sEND-%d\r\n", i, i, body, i)
}

// rewritten returns msg as inject --config-set cs writes it.
func rewritten(t *testing.T, msg, cs string) string {
	t.Helper()
	out, err := sesmime.RewriteBytes([]byte(msg), &inject.Options{ConfigurationSet: cs})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// needRoot skips a test that must switch users or mount.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// openDir returns a new folder that anyone may search, under
// openTempRoot, removed at the end of the test.
func openDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(openTempRoot(), "sesmime-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Error(err)
		}
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// asNobody makes cmd run as the user nobody.
func asNobody(cmd *exec.Cmd) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	return cmd
}

// TestOpenDescriptorReadsOldMessage: a descriptor opened on a message
// before a run keeps reading that whole message, small or large, never
// another one (issue 13's reproducer: it read message 129).
func TestOpenDescriptorReadsOldMessage(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 200 {
		files[fmt.Sprintf("d/m%03d.eml", i)] = marked(i, i%50 == 7)
	}
	writeFiles(t, dir, files)
	chdir(t, dir)
	var held []*os.File
	for _, i := range []int{64, 57} { // small, large
		f, err := os.Open(fmt.Sprintf("d/m%03d.eml", i))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		held = append(held, f)
	}
	for _, cs := range []string{"cs1", "cs2"} {
		if code, _, errs := runT(t, "", "inject", "-i", "-r", "-j", "1", "--config-set", cs, "d"); code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
	}
	for k, i := range []int{64, 57} {
		f := held[k]
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(f)
		if err != nil {
			t.Fatal(err)
		}
		if want := files[fmt.Sprintf("d/m%03d.eml", i)]; string(got) != want {
			t.Errorf("descriptor opened on m%03d before the run reads %d bytes ending %q, want the old message", i, len(got), tail(got))
		}
	}
}

func tail(b []byte) []byte { return b[max(0, len(b)-12):] }

// TestConcurrentRuns: two runs over one tree at once, several rounds, with
// messages above and below smallFile: every file ends as its own old or
// new message, never a mix or another message.
func TestConcurrentRuns(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cur := map[string]string{}
	for i := range 160 {
		cur[fmt.Sprintf("t/d%d/m%03d.eml", i%4, i)] = marked(i, i%8 == 0)
	}
	writeFiles(t, dir, cur)
	for round := range 3 {
		cs := [2]string{fmt.Sprintf("a%d", round), fmt.Sprintf("b%d", round)}
		var runs [2]*exec.Cmd
		var errs [2]bytes.Buffer
		for k := range runs {
			runs[k] = exec.Command(bin, "inject", "-i", "-r", "-j", "2", "--config-set", cs[k], "t")
			runs[k].Dir, runs[k].Stderr = dir, &errs[k]
			if err := runs[k].Start(); err != nil {
				t.Fatal(err)
			}
		}
		for k, r := range runs {
			if err := r.Wait(); err != nil {
				t.Fatalf("round %d, run %d: %v\n%s", round, k, err, errs[k].String())
			}
		}
		bad := 0
		for name, old := range cur {
			got := readFile(t, filepath.Join(dir, name))
			a, b := rewritten(t, old, cs[0]), rewritten(t, old, cs[1])
			ok := false
			for _, want := range []string{old, a, b, rewritten(t, a, cs[1]), rewritten(t, b, cs[0])} {
				ok = ok || got == want
			}
			if !ok {
				bad++
				if bad < 4 {
					t.Errorf("round %d: %s holds %d bytes ending %q: neither its old nor its new message", round, name, len(got), tail([]byte(got)))
				}
			}
			cur[name] = got
		}
		if bad > 0 {
			t.Fatalf("round %d: %d of %d files mixed or foreign", round, bad, len(cur))
		}
		if left := tempFiles(t, dir); len(left) > 0 {
			t.Fatalf("round %d: temporary files left: %q", round, left)
		}
	}
}

// TestRacingReaderSeesNoPrivateMessage: a user who may read only the
// public messages of a directory, reading every file in it while runs
// rewrite it, never reads a byte of a private one: temporary files are
// owner-only until they are complete, and no old inode is written to.
func TestRacingReaderSeesNoPrivateMessage(t *testing.T) {
	needRoot(t)
	if os.Getenv("SESMIME_READER_DIR") != "" {
		t.Skip("the reader itself")
	}
	exeDir := openDir(t)
	self := filepath.Join(exeDir, "test")
	if b, err := os.ReadFile(os.Args[0]); err != nil || os.WriteFile(self, b, 0o755) != nil || os.Chmod(self, 0o755) != nil {
		t.Fatal("copying the test binary:", err)
	}
	dir := openDir(t)
	files := map[string]string{}
	for i := range 300 {
		kind := "PUBLIC"
		if i%2 == 0 {
			kind = "PRIVATE"
		}
		files[fmt.Sprintf("m%03d.eml", i)] = strings.Replace(marked(i, i%20 == 0), "body of", kind+" body of", 1)
	}
	writeFiles(t, dir, files)
	for name, msg := range files {
		if strings.Contains(msg, "PRIVATE") {
			os.Chmod(filepath.Join(dir, name), 0o600)
		}
	}
	stop := filepath.Join(exeDir, "stop")
	reader := asNobody(exec.Command(self, "-test.run=^TestReaderHelper$"))
	reader.Env = append(os.Environ(), "SESMIME_READER_DIR="+dir, "SESMIME_READER_STOP="+stop)
	var out bytes.Buffer
	reader.Stdout, reader.Stderr = &out, &out
	if err := reader.Start(); err != nil {
		t.Fatal(err)
	}
	chdir(t, dir)
	for round := range 6 {
		if code, _, errs := runT(t, "", "inject", "-i", "-r", "-j", "2", "--config-set", fmt.Sprintf("r%d", round), "."); code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
	}
	os.WriteFile(stop, nil, 0o644)
	err := reader.Wait()
	if strings.Contains(out.String(), "LEAK") || err != nil {
		t.Fatalf("reader: %v\n%s", err, out.String())
	}
	t.Logf("reader: %s", strings.TrimSpace(out.String()))
}

// TestReaderHelper is the racing reader of the test above, run as nobody.
func TestReaderHelper(t *testing.T) {
	dir, stop := os.Getenv("SESMIME_READER_DIR"), os.Getenv("SESMIME_READER_STOP")
	if dir == "" {
		t.Skip("run by TestRacingReaderSeesNoPrivateMessage")
	}
	opened, temps := 0, 0
	for {
		if _, err := os.Stat(stop); err == nil {
			break
		}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				continue
			}
			opened++
			if strings.HasPrefix(e.Name(), tempPrefix) {
				temps++
			}
			if bytes.Contains(b, []byte("PRIVATE")) {
				fmt.Printf("LEAK: %s: %q\n", e.Name(), tail(b))
				os.Exit(1)
			}
		}
	}
	fmt.Printf("read %d files, %d of them temporary\n", opened, temps)
}

// TestSetIDKeptAsNonRoot: a user who is not root rewriting their own
// set-user-ID and set-group-ID files keeps both bits (the kernel clears
// them on a write, so the mode is set after the content).
func TestSetIDKeptAsNonRoot(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	dir := openDir(t)
	modes := map[string]os.FileMode{
		"suid.eml": 0o755 | os.ModeSetuid, "sgid.eml": 0o750 | os.ModeSetgid,
		"both.eml": 0o710 | os.ModeSetuid | os.ModeSetgid, "sticky.eml": 0o644 | os.ModeSticky,
	}
	for name, mode := range modes {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(msgA), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chown(p, 65534, 65534)
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	os.Chown(dir, 65534, 65534)
	cmd := asNobody(exec.Command(bin, "inject", "-i", "-r", "--config-set", "news", "."))
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for name, mode := range modes {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode() != mode || st.Uid != 65534 || st.Gid != 65534 {
			t.Errorf("%s: mode %v owner %d:%d, want %v 65534:65534", name, fi.Mode(), st.Uid, st.Gid, mode)
		}
		if !strings.Contains(readFile(t, filepath.Join(dir, name)), "X-SES-CONFIGURATION-SET: news") {
			t.Errorf("%s was not rewritten", name)
		}
	}
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %q: %v", name, args, err)
	}
	return string(out)
}

// tool runs a command, and returns an error that holds its output when it
// fails.
func tool(name string, args ...string) error {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", name, err, bytes.TrimSpace(out))
	}
	return nil
}

// xattrDir returns base when probe, which sets extended attributes on a
// file, succeeds on a file there. Else, as root, it returns a tmpfs
// mounted on a new folder in base for the rest of the test, which takes
// ACLs, user.* and security.* attributes: a TMPDIR on a file system that
// does not would skip the test. Without root, or when the tmpfs fails
// too, the test is skipped.
func xattrDir(t *testing.T, base string, probe func(file string) error) string {
	t.Helper()
	try := func(dir string) error {
		f := filepath.Join(dir, "probe")
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			return err
		}
		defer os.Remove(f)
		return probe(f)
	}
	err := try(base)
	if err == nil {
		return base
	}
	if os.Geteuid() != 0 {
		t.Skipf("%v (a tmpfs to try instead needs root)", err)
	}
	mnt := filepath.Join(base, "tmpfs")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, merr := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", mnt).CombinedOutput(); merr != nil {
		t.Skipf("%v; mount tmpfs: %v: %s", err, merr, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	if err := try(mnt); err != nil {
		t.Skipf("neither %s nor a tmpfs takes the attributes: %v", base, err)
	}
	return mnt
}

// TestXattrsAndACLKept: -i keeps a file's ACL (here one that lets nobody
// read a 0600 file its group may not read) and user.* attributes; a new
// file does not take the default ACL of its directory when the original
// had none; and a file with an attribute that cannot be copied is refused
// and left as it was.
func TestXattrsAndACLKept(t *testing.T) {
	if _, err := exec.LookPath("setfacl"); err != nil {
		t.Skip("no setfacl (Debian acl)")
	}
	var bin string
	if os.Geteuid() == 0 {
		bin = buildBinary(t)
	}
	dir := xattrDir(t, t.TempDir(), func(f string) error {
		return cmp.Or(tool("setfacl", "-m", "u:nobody:r,g::-", f), tool("setfattr", "-n", "user.origin", "-v", "x", f))
	})
	writeFiles(t, dir, map[string]string{"acl.eml": msgA, "plain/p.eml": msgA})
	acl := filepath.Join(dir, "acl.eml")
	os.Chmod(acl, 0o600)
	runTool(t, "setfacl", "-m", "u:nobody:r,g::-", acl)
	runTool(t, "setfattr", "-n", "user.origin", "-v", "archive-7", acl)
	runTool(t, "setfacl", "-d", "-m", "u:nobody:rw", filepath.Join(dir, "plain"))
	wantACL := runTool(t, "getfacl", "-cp", acl)
	chdir(t, dir)
	if code, _, errs := runT(t, "", "inject", "-i", "-r", "--config-set", "news", "."); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got := runTool(t, "getfacl", "-cp", acl); got != wantACL {
		t.Errorf("ACL after -i:\n%s\nwant:\n%s", got, wantACL)
	}
	if got := runTool(t, "getfattr", "--only-values", "-n", "user.origin", acl); got != "archive-7" {
		t.Errorf("user.origin = %q, want archive-7", got)
	}
	if got := runTool(t, "getfacl", "-cp", "plain/p.eml"); strings.Contains(got, "nobody") {
		t.Errorf("file without an ACL took its directory's default:\n%s", got)
	}
	for _, p := range []string{acl, "plain/p.eml"} {
		if !strings.Contains(readFile(t, p), "news") {
			t.Errorf("%s not rewritten", p)
		}
	}

	// As nobody, a file capability (security.capability) cannot be set.
	if bin == "" {
		return
	}
	cdir := xattrDir(t, openDir(t), func(f string) error { return tool("setcap", "cap_net_raw+p", f) })
	capf := filepath.Join(cdir, "cap.eml")
	os.WriteFile(capf, []byte(msgA), 0o644)
	os.Chown(capf, 65534, 65534) // before setcap: a chown drops capabilities
	runTool(t, "setcap", "cap_net_raw+p", capf)
	os.Chown(cdir, 65534, 65534)
	cmd := asNobody(exec.Command(bin, "inject", "-i", "--config-set", "news", "cap.eml"))
	cmd.Dir = cdir
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "security.capability") {
		t.Errorf("a file whose capability cannot be copied: %v, %s; want it refused naming the attribute", err, out)
	}
	if got := readFile(t, capf); got != msgA {
		t.Errorf("refused file changed: %q", got)
	}
	if got := runTool(t, "getcap", capf); !strings.Contains(got, "cap_net_raw") {
		t.Errorf("refused file lost its capability: %q", got)
	}
	if left := tempFiles(t, cdir); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

// TestKilledRun: a run killed (SIGKILL) at random points leaves every file
// its old or its new message, and temporary files that hold only new
// messages, never an original. A temporary file is owner-only until its
// batch is durable; only a complete copy between the chmod that gives it
// its target's metadata and its rename (at most one per committing worker)
// may have its target's mode, which exposes nothing the target does not.
func TestKilledRun(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	old, newOf, isOld := map[string]string{}, map[string]string{}, map[string]bool{}
	var news []string
	for i := range 500 {
		msg := marked(i, i%100 == 3)
		name := fmt.Sprintf("t/d%d/m%04d.eml", i%5, i)
		old[name] = msg
		n := rewritten(t, msg, "news")
		newOf[n] = name
		news = append(news, n)
		isOld[msg] = true
	}
	modeOf := func(name string) os.FileMode {
		if strings.ContainsAny(name[len(name)-5:len(name)-4], "02468") {
			return 0o644
		}
		return 0o600
	}
	const jobs = 2
	trials := 8
	var full time.Duration
	for trial := range trials {
		os.RemoveAll(filepath.Join(dir, "t"))
		writeFiles(t, dir, old)
		for name := range old {
			os.Chmod(filepath.Join(dir, name), modeOf(name))
		}
		cmd := exec.Command(bin, "inject", "-i", "-r", "-j", strconv.Itoa(jobs), "--config-set", "news", "t")
		cmd.Dir = dir
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if trial == 0 {
			cmd.Wait() // the first run times a whole run
			full = time.Since(start)
			continue
		}
		time.Sleep(time.Duration(rand.Int64N(int64(full))))
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		changed := 0
		for name, msg := range old {
			got := readFile(t, filepath.Join(dir, name))
			switch {
			case got == msg:
			case newOf[got] == name:
				changed++
			default:
				t.Fatalf("trial %d: %s holds neither its old nor its new message (%d bytes)", trial, name, len(got))
			}
		}
		left := tempFiles(t, dir)
		wide := 0
		for _, p := range left {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			b := readFile(t, p)
			if isOld[b] {
				t.Fatalf("trial %d: temporary file %s holds an original", trial, p)
			}
			target, complete := newOf[b]
			if !complete && !slices.ContainsFunc(news, func(n string) bool { return strings.HasPrefix(n, b) }) {
				t.Fatalf("trial %d: temporary file %s holds %q..., not the start of a new message", trial, p, b[:min(40, len(b))])
			}
			if m := fi.Mode().Perm(); m != 0o600 {
				if !complete || m != modeOf(target) {
					t.Fatalf("trial %d: temporary file %s has mode %v (complete %v)", trial, p, m, complete)
				}
				wide++
			}
		}
		if wide > jobs {
			t.Fatalf("trial %d: %d temporary files have their target's mode, want at most %d: given before their batch was durable", trial, wide, jobs)
		}
		t.Logf("trial %d: killed after %v: %d of %d new, %d temporary files left (%d with their target's mode)", trial, time.Since(start).Round(time.Millisecond), changed, len(old), len(left), wide)
	}
}

// TestBarrierFailureFailsBatch: when the barrier of a batch fails (the
// error injected through atomicfile's seam), every file of it is reported
// failed, and every original is intact.
func TestBarrierFailureFailsBatch(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 100 {
		files[fmt.Sprintf("d/m%03d.eml", i)] = marked(i, i == 50)
	}
	writeFiles(t, dir, files)
	chdir(t, dir)
	testBarrier = func(*os.File) error { return errors.New("disk on fire") }
	defer func() { testBarrier = nil }()
	code, _, errs := runT(t, "", "inject", "-i", "-r", "-j", "2", "--config-set", "news", "d")
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	if n := strings.Count(errs, "sync: disk on fire"); n != len(files) {
		t.Errorf("%d files reported the barrier's error, want %d:\n%s", n, len(files), errs)
	}
	if !strings.Contains(errs, "100 failed") {
		t.Errorf("summary: %s", errs)
	}
	for name, msg := range files {
		if got := readFile(t, name); got != msg {
			t.Fatalf("%s changed though its batch's barrier failed", name)
		}
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

// TestNonRegularRefused: -o, --dry-run, -i and check refuse a named pipe
// or a device, named or through a link in a tree, at once: nothing is
// opened that could block or never end.
func TestNonRegularRefused(t *testing.T) {
	dir := t.TempDir()
	chdir(t, dir)
	if err := syscall.Mkfifo("fifo.eml", 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	os.Mkdir("tree", 0o755)
	os.Symlink("/dev/zero", "tree/zero.eml")
	os.Symlink("../fifo.eml", "tree/pipe.eml")
	os.WriteFile("tree/ok.eml", []byte(msgA), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", "out", "fifo.eml"}, "not a regular file (named pipe)"},
		{[]string{"--dry-run", "fifo.eml"}, "not a regular file (named pipe)"},
		{[]string{"-i", "fifo.eml"}, "not a regular file (named pipe)"},
		{[]string{"-o", "out", "/dev/zero"}, "not a regular file (device)"},
		{[]string{"--dry-run", "/dev/zero"}, "not a regular file (device)"},
		{[]string{"-o", "out", "tree/zero.eml"}, "not a regular file (device)"},
		{[]string{"-o", "out", "tree/pipe.eml"}, "not a regular file (named pipe)"},
		{[]string{"-o", "out", "-r", "tree"}, "skipped: not a regular file (symlink)"},
		{[]string{"--dry-run", "-r", "tree"}, "skipped: not a regular file (symlink)"},
		{[]string{"check", "fifo.eml"}, "not a regular file (named pipe)"},
		{[]string{"check", "tree/pipe.eml"}, "not a regular file (named pipe)"},
		{[]string{"check", "/dev/zero"}, "not a regular file (device)"},
	} {
		args := append([]string{"inject", "--config-set", "news"}, tt.args...)
		if tt.args[0] == "check" {
			args = tt.args
		}
		done := make(chan string, 1)
		go func() {
			_, _, errs := runT(t, "", args...)
			done <- errs
		}()
		select {
		case errs := <-done:
			if !strings.Contains(errs, tt.want) {
				t.Errorf("%q: stderr %q, want %q", tt.args, errs, tt.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%q: still running after 10 s", tt.args)
		}
	}
	if b, err := os.ReadFile("out/ok.eml"); err != nil || !strings.Contains(string(b), "news") {
		t.Errorf("the regular file beside them: %q, %v", b, err)
	}
}

// TestNearlyFullDisk: on a file system with room for only a few copies at
// once, every file is rewritten: a batch that does not fit is committed
// early, and a file fails only when its own copy does not fit.
func TestNearlyFullDisk(t *testing.T) {
	needRoot(t)
	dir := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(dir, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	files := map[string]string{}
	for i := range 80 {
		files[fmt.Sprintf("m%02d.eml", i)] = marked(i, false) + strings.Repeat("x", 12000) + "\r\n"
	}
	writeFiles(t, dir, files)
	code, _, errs := runT(t, "", "inject", "-i", "-r", "-j", "2", "--config-set", "news", dir)
	if code != 0 {
		t.Errorf("exit %d: %s", code, errs)
	}
	for name, msg := range files {
		if got := readFile(t, filepath.Join(dir, name)); got != rewritten(t, msg, "news") {
			t.Errorf("%s not rewritten (%d bytes)", name, len(got))
		}
	}

	// Copies that can never fit (300 KiB with 160 KiB free) beside ones
	// that do: a worker whose small copy runs out of space while another
	// worker's doomed copy holds the space tries again once that one has
	// given it back, so only the large files fail.
	for round := range 3 {
		mixed := filepath.Join(t.TempDir(), "mixed")
		os.Mkdir(mixed, 0o755)
		msgs := map[string]string{}
		var pages int64
		for i := range 80 {
			n := 8<<10 + (i*7919)%(40<<10)
			if i%10 == 3 {
				n = 300 << 10
			}
			msgs[fmt.Sprintf("m%02d.eml", i)] = marked(i, false) + strings.Repeat("x", n) + "\r\n"
			pages += int64(n)/4096 + 1
		}
		size := fmt.Sprintf("size=%dk", pages*4+160)
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", size, "tmpfs", mixed).CombinedOutput(); err != nil {
			t.Fatalf("mount tmpfs: %v: %s", err, out)
		}
		writeFiles(t, mixed, msgs)
		_, _, errs := runT(t, "", "inject", "-i", "-r", "-j", "2", "--config-set", "news", mixed)
		for name, msg := range msgs {
			got := readFile(t, filepath.Join(mixed, name))
			large := len(msg) > 300<<10
			if want := rewritten(t, msg, "news"); large && got != msg || !large && got != want {
				t.Errorf("round %d: %s (%d bytes): rewritten %v, want %v", round, name, len(msg), got == want, !large)
			}
		}
		if t.Failed() {
			t.Logf("stderr: %s", errs)
		}
		exec.Command("umount", mixed).Run()
	}

	// A small file (rewritten in memory) whose copy does not fit fails
	// with a line that names it once.
	tiny := filepath.Join(t.TempDir(), "tiny")
	os.Mkdir(tiny, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", tiny).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	small := filepath.Join(tiny, "a.eml")
	writeFiles(t, tiny, map[string]string{"a.eml": marked(0, false) + strings.Repeat("x", 30<<10) + "\r\n"})
	code, _, errs = runT(t, "", "inject", "-i", "--config-set", "news", small)
	exec.Command("umount", tiny).Run()
	if want := "sesmime: " + small + ": write: no space left on device\n"; code != 1 || errs != want {
		t.Errorf("a copy that does not fit: exit %d, stderr %q; want 1, %q", code, errs, want)
	}

	// A large file whose body the kernel copies (splice) onto a full disk
	// fails with a line that names the output not written: with -o the
	// file under DIR, with -i the file itself, to stdout the file stdout
	// is. The disk has room for the header and the first 64 KiB, which are
	// written, not spliced.
	in := t.TempDir()
	chdir(t, in)
	for _, tc := range []struct {
		flag, input, want string
		size              int // of the input, on the 400 KiB disk with -i
	}{
		{"-o", "big.eml", "big.eml: " + filepath.Join(tiny, "big.eml") + ": splice", 600 << 10},
		{"-i", filepath.Join(tiny, "big.eml"), filepath.Join(tiny, "big.eml") + ": splice", 280 << 10},
	} {
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", tiny).CombinedOutput(); err != nil {
			t.Fatalf("mount tmpfs: %v: %s", err, out)
		}
		os.WriteFile(tc.input, []byte(marked(0, false)+strings.Repeat("x", tc.size)+"\r\n"), 0o644)
		args := []string{"inject", tc.flag, "--config-set", "news", tc.input}
		if tc.flag == "-o" {
			args = slices.Insert(args, 2, tiny)
		}
		code, _, errs = runT(t, "", args...)
		exec.Command("umount", tiny).Run()
		if want := "sesmime: " + tc.want + ": no space left on device\n"; code != 1 || errs != want {
			t.Errorf("%s: a kernel copy that does not fit: exit %d, stderr %q; want 1, %q", tc.flag, code, errs, want)
		}
	}
	// To stdout, a file on the full disk: the line names that file too.
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", tiny).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	os.WriteFile("big.eml", []byte(marked(0, false)+strings.Repeat("x", 600<<10)+"\r\n"), 0o644)
	stdout, err := os.Create(filepath.Join(tiny, "out.eml"))
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	code = run([]string{"inject", "--config-set", "news", "big.eml"}, strings.NewReader(""), stdout, &stderr)
	stdout.Close()
	exec.Command("umount", tiny).Run()
	if want := "sesmime: big.eml: splice " + stdout.Name() + ": no space left on device\n"; code != 1 || stderr.String() != want {
		t.Errorf("to stdout: a kernel copy that does not fit: exit %d, stderr %q; want 1, %q", code, stderr.String(), want)
	}

	// -o over the outputs of an earlier run: a file tried again after a
	// commit freed space is read again from its start.
	in = t.TempDir()
	writeFiles(t, in, files)
	chdir(t, in)
	for _, cs := range []string{"one", "two"} {
		if code, _, errs := runT(t, "", "inject", "-o", dir, "-r", "-j", "2", "--config-set", cs, "."); code != 0 {
			t.Errorf("-o --config-set %s: exit %d: %s", cs, code, errs)
		}
	}
	for name, msg := range files {
		if got := readFile(t, filepath.Join(dir, name)); got != rewritten(t, msg, "two") {
			t.Errorf("-o: %s is not its rewrite (%d bytes)", name, len(got))
		}
	}
}
