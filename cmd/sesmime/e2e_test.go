package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// built is the binary buildBinary built, once per test process.
var built struct {
	sync.Mutex
	bin string
}

// buildBinary builds sesmime, once per test process, into a temporary
// directory that anyone may read (tests run it as another user), under
// openTempRoot, removed by TestMain.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	built.Lock()
	defer built.Unlock()
	if built.bin != "" {
		return built.bin
	}
	dir, err := os.MkdirTemp(openTempRoot(), "sesmime-bin-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "sesmime")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = sourceDir
	cmd.Env = append(os.Environ(), "GOPROXY=off") // the test binary built, so the modules are here
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := os.Chmod(bin, 0o755); err != nil { // whatever the umask
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	built.bin = bin
	return bin
}

// openTempRoot returns the folder under which tests put what the user
// nobody must reach (a binary it runs, files it reads or rewrites): the
// system's temporary folder when others may search every folder on its
// path, else /tmp when they may search that one. A TMPDIR of mode 0700,
// as mktemp -d makes it, hides everything below it from nobody.
func openTempRoot() string {
	for _, dir := range []string{os.TempDir(), "/tmp"} {
		if searchable(dir) {
			return dir
		}
	}
	return os.TempDir()
}

// searchable reports whether others may search dir and every folder
// above it.
func searchable(dir string) bool {
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return false
	}
	for {
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

// sourceDir is the package's directory, where the tests start.
var sourceDir, _ = os.Getwd()

func TestMain(m *testing.M) {
	code := m.Run()
	if built.bin != "" {
		os.RemoveAll(filepath.Dir(built.bin))
	}
	os.Exit(code)
}

// exe runs the binary in dir and returns its exit code, stdout and stderr.
func exe(t *testing.T, bin, dir, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func message(i int) string {
	return fmt.Sprintf("From: a%d@example.com\r\nSubject: message %d\r\n\r\n%s\r\n", i, i, strings.Repeat("body ", i%50))
}

func TestEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 30 {
		files[fmt.Sprintf("tree/d%d/m%02d.eml", i%3, i)] = message(i)
	}
	files["tree/d1/bad.eml"] = "Subject: " + strings.Repeat("x", 70<<10) + "\r\n\r\nb\r\n"
	files["tree/d2/done.eml"] = "X-SES-CONFIGURATION-SET: news\r\n" + message(99)
	writeFiles(t, dir, files)
	if err := os.Chmod(filepath.Join(dir, "tree/d0/m00.eml"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2003, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "tree/d2/done.eml"), old, old); err != nil {
		t.Fatal(err)
	}

	// stdin to stdout
	code, out, _ := exe(t, bin, dir, message(1), "inject", "--config-set", "news")
	if code != 0 || out != "X-SES-CONFIGURATION-SET: news\r\n"+message(1) {
		t.Errorf("stdin: code %d, %q", code, out)
	}

	// to -o: a mirror of the tree; the bad file fails, the rest run
	code, _, errs := exe(t, bin, dir, "", "inject", "-r", "-o", "out", "-j", "2", "--config-set", "news", "tree")
	if code != 1 || !strings.Contains(errs, "sesmime: tree/d1/bad.eml: line 1: header line is longer than 65,536 bytes") {
		t.Errorf("-o: code %d, stderr %q", code, errs)
	}
	for name, data := range files {
		got, err := os.ReadFile(filepath.Join(dir, "out", strings.TrimPrefix(name, "tree/")))
		switch {
		case strings.HasSuffix(name, "bad.eml"):
			if err == nil {
				t.Errorf("-o wrote the failed %s", name)
			}
		case strings.HasSuffix(name, "done.eml"):
			if string(got) != data {
				t.Errorf("-o %s = %q", name, got)
			}
		default:
			if string(got) != "X-SES-CONFIGURATION-SET: news\r\n"+data {
				t.Errorf("-o %s = %q (%v)", name, got, err)
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "out/d0/m00.eml")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("-o did not keep mode 0600: %v %v", fi, err)
	}

	// --files-from
	code, _, errs = exe(t, bin, dir, "tree/d0/m03.eml\ntree/d1/m04.eml\n", "inject", "-o", "out2", "--config-set", "x", "--files-from", "-")
	if code != 0 || !strings.Contains(errs, "2 files: 2 changed") {
		t.Errorf("--files-from: code %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "out2/tree/d1/m04.eml")); err != nil {
		t.Error(err)
	}

	// in place
	code, _, errs = exe(t, bin, dir, "", "inject", "-i", "-r", "-j", "3", "--config-set", "news", "tree")
	if code != 1 || !strings.Contains(errs, "32 files: 30 changed, 1 unchanged, 1 failed") {
		t.Errorf("-i: code %d, stderr %q", code, errs)
	}
	for name, data := range files {
		got := readFile(t, filepath.Join(dir, name))
		if strings.HasSuffix(name, "bad.eml") || strings.HasSuffix(name, "done.eml") {
			if got != data {
				t.Errorf("-i changed %s", name)
			}
		} else if got != "X-SES-CONFIGURATION-SET: news\r\n"+data {
			t.Errorf("-i %s = %q", name, got)
		}
	}
	if fi, _ := os.Stat(filepath.Join(dir, "tree/d0/m00.eml")); fi.Mode().Perm() != 0o600 {
		t.Errorf("-i mode %v, want 0600", fi.Mode())
	}
	if fi, _ := os.Stat(filepath.Join(dir, "tree/d2/done.eml")); !fi.ModTime().Equal(old) {
		t.Errorf("unchanged file rewritten: mtime %v", fi.ModTime())
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

// checkOldOrNew checks that each file holds its old or its new bytes, that
// no temporary file is left, and returns how many are new.
func checkOldOrNew(t *testing.T, dir string, old map[string]string, prefix string) int {
	t.Helper()
	n := 0
	for name, data := range old {
		switch got := readFile(t, filepath.Join(dir, name)); got {
		case data:
		case prefix + data:
			n++
		default:
			t.Errorf("%s is neither old nor new: %q", name, got)
		}
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
	return n
}

// TestInterruptFilesFrom stops a run whose --files-from is still open, so
// the interruption surely comes before the end of the run.
func TestInterruptFilesFrom(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 40 {
		files[fmt.Sprintf("m%02d.eml", i)] = message(i)
	}
	writeFiles(t, dir, files)
	cmd := exec.Command(bin, "inject", "-i", "-j", "2", "--config-set", "news", "--files-from", "-")
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		fmt.Fprintf(stdin, "m%02d.eml\n", i)
	}
	// Wait until the first 20 are done: polling, no deadline but the test's.
	for checkOldOrNewQuiet(dir, files, 20) < 20 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	stdin.Close()
	ee, ok := errors.AsType[*exec.ExitError](err)
	if !ok || ee.ExitCode() != 128+int(syscall.SIGINT) {
		t.Errorf("exit %v, want %d; stderr %q", err, 128+int(syscall.SIGINT), errb.String())
	}
	if n := checkOldOrNew(t, dir, files, "X-SES-CONFIGURATION-SET: news\r\n"); n != 20 {
		t.Errorf("%d files new, want 20", n)
	}
	if !strings.Contains(errb.String(), "sesmime: stopped by SIGINT after 20 files; the files not reached are untouched\n") {
		t.Errorf("stderr %q", errb.String())
	}
}

// TestInterruptCheck stops check with SIGTERM while its --files-from is
// still open, once it has reported the last name given (a file that does
// not exist): it stops as inject does, with the findings of the files it
// read on stdout, its summary and the stop line, and exits 128+SIGTERM.
func TestInterruptCheck(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.eml": checkErr, "b.eml": checkWarn})
	cmd := exec.Command(bin, "check", "--files-from", "-")
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(stdin, "a.eml\nb.eml\nmissing.eml\n")
	errs := bufio.NewReader(stderr)
	first, _ := errs.ReadString('\n')
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(errs)
	err = cmd.Wait()
	if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 128+int(syscall.SIGTERM) {
		t.Errorf("exit %v, want %d; stderr %q", err, 128+int(syscall.SIGTERM), first+string(rest))
	}
	if want := "sesmime: missing.eml: stat: no such file or directory\n"; first != want {
		t.Errorf("first line on stderr %q, want %q", first, want)
	}
	if !strings.HasSuffix(string(rest), "sesmime: stopped by SIGTERM after 3 files; the files not reached are untouched\n") {
		t.Errorf("stderr after the signal %q", rest)
	}
	for _, want := range []string{"a.eml:3: error: duplicate-field: ", "b.eml:1: warning: header-8bit: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
}

// TestInterruptTwice: at a second signal a run over files exits at once
// with 128+N, and says that temporary files may be left only when it could
// have left some: with -i or -o, not for check or --dry-run, which write
// none. A stdout that is not read holds each run until the second signal:
// one message with 3,000 tag fields gives more findings, changes or JSON
// than a pipe holds. Once a byte has come, the test signals until the run
// exits (two signals close together may arrive as one).
func TestInterruptTwice(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	var msg strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&msg, "X-SES-MESSAGE-TAGS: t%d=v\r\n", i)
	}
	msg.WriteString("Subject: hi\r\n\r\nbody\r\n")
	temps := " (" + tempPrefix + "*.tmp files may be left)"
	for _, tc := range []struct {
		args []string
		more string // after "exiting at once"
	}{
		{[]string{"check", "m.eml"}, ""},
		{[]string{"inject", "--dry-run", "--tag", "a=b", "m.eml"}, ""},
		{[]string{"inject", "-i", "--json", "--tag", "a=b", "m.eml"}, temps},
		{[]string{"inject", "-o", "out", "--json", "--tag", "a=b", "m.eml"}, temps},
	} {
		writeFiles(t, dir, map[string]string{"m.eml": msg.String()})
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, tc.args...)
		cmd.Dir, cmd.Stdout = dir, w
		var errb bytes.Buffer
		cmd.Stderr = &errb
		err = cmd.Start()
		w.Close()
		if err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		r.Read(make([]byte, 1))
	signal:
		for {
			cmd.Process.Signal(os.Interrupt)
			select {
			case err = <-exited:
				break signal
			case <-time.After(10 * time.Millisecond):
			}
		}
		r.Close()
		if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 128+int(syscall.SIGINT) {
			t.Errorf("%q: exit %v, want %d", tc.args, err, 128+int(syscall.SIGINT))
		}
		if want := "sesmime: stopped by SIGINT; exiting at once" + tc.more + "\n"; errb.String() != want {
			t.Errorf("%q: stderr %q, want %q", tc.args, errb.String(), want)
		}
	}
}

func checkOldOrNewQuiet(dir string, old map[string]string, upto int) int {
	n := 0
	for i := range upto {
		name := fmt.Sprintf("m%02d.eml", i)
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if string(b) != old[name] && len(b) > 0 {
			n++
		}
	}
	return n
}

// TestInterruptLongRun sends SIGINT to a run over many files, once it has
// started changing them.
func TestInterruptLongRun(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 3000 {
		files[fmt.Sprintf("t/%02d/m%04d.eml", i%30, i)] = message(i)
	}
	writeFiles(t, dir, files)
	cmd := exec.Command(bin, "inject", "-i", "-r", "-j", "2", "--config-set", "news", "t")
	cmd.Dir = dir
	var errb bytes.Buffer
	cmd.Stderr = &errb
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := filepath.Join(dir, "t/00/m0000.eml")
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var err error
wait:
	for {
		select {
		case err = <-exited:
			break wait // finished before we could interrupt it
		default:
		}
		if b, _ := os.ReadFile(first); bytes.HasPrefix(b, []byte("X-SES")) {
			cmd.Process.Signal(os.Interrupt)
			err = <-exited
			break
		}
		time.Sleep(time.Millisecond)
	}
	n := checkOldOrNew(t, dir, files, "X-SES-CONFIGURATION-SET: news\r\n")
	if err == nil {
		if n != len(files) {
			t.Errorf("exit 0 but %d of %d files new", n, len(files))
		}
		t.Log("the run finished before the signal")
		return
	}
	if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 128+int(syscall.SIGINT) {
		t.Errorf("exit %v; stderr %q", err, errb.String())
	}
	t.Logf("interrupted after %d of %d files", n, len(files))
}

// TestSignalMidCopy signals a run in the middle of one huge message (a
// sparse 2 GiB file; stdin, a pipe that stalls): it exits with 128+SIGINT
// and says so, the original is untouched and no temporary file is left.
// The timeout is only a guard against a hang; the latency is logged.
func TestSignalMidCopy(t *testing.T) {
	bin := buildBinary(t)
	const head = "From: a@example.com\r\nSubject: big\r\n\r\n"
	for _, mode := range []string{"-i", "-o", "stdout"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			big := filepath.Join(dir, "big.eml")
			args := []string{"inject", "--config-set", "news"}
			cmd := exec.Command(bin)
			var feed *os.File   // stdout: the stalled writer of stdin
			watch := tempPrefix // what grows as the copy goes on
			switch mode {
			case "-i", "-o":
				if err := os.WriteFile(big, []byte(head), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Truncate(big, 2<<30); err != nil {
					t.Fatal(err)
				}
				if mode == "-o" {
					args = append(args, "-o", "out")
				} else {
					args = append(args, "-i")
				}
				args = append(args, "big.eml")
			case "stdout":
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				defer w.Close()
				feed = w
				out, err := os.Create(filepath.Join(dir, "out.eml"))
				if err != nil {
					t.Fatal(err)
				}
				defer out.Close()
				cmd.Stdin, cmd.Stdout = r, out
				watch = "out.eml"
			}
			before, _ := os.Stat(big)
			cmd.Args = append([]string{bin}, args...)
			cmd.Dir = dir
			var errb bytes.Buffer
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			if feed != nil {
				feed.Write([]byte(head))
				feed.Write(make([]byte, 1<<20)) // then nothing more, nor an end
			}
			// Signal once the copy has written something.
			for copying := false; !copying; time.Sleep(time.Millisecond) {
				select {
				case err := <-exited:
					t.Fatalf("exited before the signal: %v; stderr %q", err, errb.String())
				default:
				}
				filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
					if fi, err := os.Stat(p); err == nil && strings.HasPrefix(d.Name(), watch) && fi.Size() > int64(len(head)) {
						copying = true
					}
					return nil
				})
			}
			sent := time.Now()
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			var err error
			select {
			case err = <-exited:
			case <-time.After(2 * time.Minute): // a hang guard, not a latency bound
				cmd.Process.Kill()
				t.Fatalf("still running 2 minutes after SIGINT; stderr %q", errb.String())
			}
			t.Logf("%s: exited %v after SIGINT", mode, time.Since(sent).Round(time.Millisecond))
			if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 128+int(syscall.SIGINT) {
				t.Errorf("exit %v, want %d; stderr %q", err, 128+int(syscall.SIGINT), errb.String())
			}
			want := "sesmime: big.eml: stopped by SIGINT; left as it was\n"
			if mode == "stdout" {
				want = "sesmime: stopped by SIGINT; the output is incomplete\n"
			}
			if !strings.Contains(errb.String(), want) {
				t.Errorf("stderr %q, want it to hold %q", errb.String(), want)
			}
			if mode == "stdout" {
				return
			}
			after, err := os.Stat(big)
			if err != nil || !os.SameFile(before, after) || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
				t.Errorf("the original changed: %v, %v", after, err)
			}
			if left := tempFiles(t, dir); len(left) > 0 {
				t.Errorf("temporary files left: %q", left)
			}
			if _, err := os.Stat(filepath.Join(dir, "out", "big.eml")); err == nil {
				t.Error("-o wrote the output of an interrupted copy")
			}
		})
	}
}
