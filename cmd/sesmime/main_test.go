package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/parse"
)

const (
	msgA = "Subject: a\r\nX-SES-MESSAGE-TAGS: old=1\r\n\r\nbody a\r\n"
	msgB = "From: b@example.com\nSubject: b\n\nbody b\n"
)

// runT runs the program in-process with stdin and returns its exit code,
// stdout and stderr.
func runT(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// chdir makes dir the working directory for the rest of the test.
func chdir(t *testing.T, dir string) { t.Chdir(dir) }

// writeFiles writes each file under dir with mode 0644, whatever the
// umask and the mode a file there had.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tempFiles lists the temporary files sesmime left under dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var left []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), tempPrefix) {
			left = append(left, p)
		}
		return nil
	})
	return left
}

func TestStdinStdout(t *testing.T) {
	want := "X-SES-CONFIGURATION-SET: news\r\nSubject: a\r\nX-SES-MESSAGE-TAGS: campaign=spring\r\n\r\nbody a\r\n"
	for _, args := range [][]string{
		{"inject", "--config-set", "news", "--tag", "campaign=spring"},
		{"inject", "--config-set", "news", "--tag", "campaign=spring", "-"},
		{"inject", "-", "--config-set=news", "--tag=campaign=spring"}, // flags after PATH
	} {
		code, out, errs := runT(t, msgA, args...)
		if code != 0 || out != want || errs != "" {
			t.Errorf("%q: code %d, stdout %q, stderr %q; want 0, %q, \"\"", args, code, out, errs, want)
		}
	}
}

func TestStrip(t *testing.T) {
	in := "X-SES-CONFIGURATION-SET: a\nX-SES-MESSAGE-TAGS: x=y\nX-SES-TENANT: t\nX-Campaign: c\nSubject: s\n\nb\n"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--config-set"}, "X-SES-MESSAGE-TAGS: x=y\nX-SES-TENANT: t\nX-Campaign: c\nSubject: s\n\nb\n"},
		{[]string{"--tags"}, "X-SES-CONFIGURATION-SET: a\nX-SES-TENANT: t\nX-Campaign: c\nSubject: s\n\nb\n"},
		{[]string{"--header", "x-campaign"}, "X-SES-CONFIGURATION-SET: a\nX-SES-MESSAGE-TAGS: x=y\nX-SES-TENANT: t\nSubject: s\n\nb\n"},
		{[]string{"--all-ses"}, "X-Campaign: c\nSubject: s\n\nb\n"},
	}
	for _, tc := range tests {
		code, out, errs := runT(t, in, append([]string{"strip"}, tc.args...)...)
		if code != 0 || out != tc.want {
			t.Errorf("strip %q: code %d, stdout %q, stderr %q; want %q", tc.args, code, out, errs, tc.want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.eml": msgA, "b.eml": msgB, "sub/c.eml": msgB})
	chdir(t, dir)
	tests := []struct {
		args []string
		want []string // substrings of stderr
	}{
		{[]string{}, []string{"Verbs"}},
		{[]string{"frobnicate"}, []string{`unknown verb "frobnicate"`}},
		{[]string{"inject"}, []string{"nothing to inject"}},
		{[]string{"strip"}, []string{"nothing to strip"}},
		{[]string{"inject", "--nope"}, []string{"-nope"}},
		{[]string{"inject", "--config-set", "a.b"}, []string{`sesmime inject: invalid configuration set "a.b": "." is not allowed`}},
		{[]string{"inject", "--config-set", ""}, []string{"sesmime inject: --config-set: invalid configuration set: empty"}},
		{[]string{"inject", "--tag", "campaign=a@b"}, []string{`sesmime inject: tag 1: invalid tag value "a@b": "@" is not allowed`}},
		{[]string{"inject", "--tag", "ses:x=1"}, []string{`"ses:x"`, "reserved"}},
		{[]string{"inject", "--tag", "novalue"}, []string{"NAME=VALUE"}},
		{[]string{"inject", "--tag", "a=1", "--tag", "a=2"}, []string{"given twice"}},
		{[]string{"inject", "--header", "Subject: x"}, []string{`"Subject"`, "reserved"}},
		{[]string{"inject", "--header", "X-A"}, []string{"NAME: VALUE"}},
		{[]string{"inject", "--config-set", "n", "--tags-mode", "union"}, []string{`"union"`}},
		{[]string{"inject", "--config-set", "n", "--progress", "maybe"}, []string{`"maybe"`}},
		{[]string{"inject", "--config-set", "n", "-j", "0", "-i", "a.eml"}, []string{`--jobs "0": want a whole number`}},
		{[]string{"inject", "--config-set", "n", "-i", "-o", "out", "a.eml"}, []string{"-i and -o"}},
		{[]string{"inject", "--config-set", "n", "a.eml", "b.eml"}, []string{"several inputs need -i"}},
		{[]string{"inject", "--config-set", "n", "-r", "sub"}, []string{"is a directory"}},
		{[]string{"inject", "--config-set", "n", "--files-from", "list"}, []string{"several inputs need -i"}},
		{[]string{"inject", "--config-set", "n", "-i"}, []string{"-i needs file PATHs"}},
		{[]string{"inject", "--config-set", "n", "-o", "out", "-"}, []string{"-o needs file PATHs"}},
		{[]string{"inject", "--config-set", "n", "-i", "a.eml", "-"}, []string{"only input"}},
		{[]string{"inject", "--config-set", "n", "--json", "a.eml"}, []string{"--json"}},
		{[]string{"inject", "--config-set", "n", "-r", "-o", "sub/out", "."}, []string{"inside the input directory"}},
		{[]string{"inject", "--config-set", "n", "-o", "out", "../x.eml"}, []string{"-o cannot mirror ../x.eml, which leaves the current directory"}},
		{[]string{"strip", "--tags", "--header", "a:b", "a.eml"}, []string{`sesmime strip: invalid option: field name to remove "a:b"`}},
		{[]string{"help", "nope"}, []string{"unknown verb"}},
		{[]string{"version", "x"}, []string{"usage"}},
	}
	for _, tc := range tests {
		before := readFile(t, "a.eml")
		code, out, errs := runT(t, msgA, tc.args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", tc.args, code, errs)
		}
		if out != "" {
			t.Errorf("%q: stdout %q, want nothing", tc.args, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%q: stderr %q lacks %q", tc.args, errs, w)
			}
		}
		if readFile(t, "a.eml") != before {
			t.Errorf("%q: a.eml changed by a usage error", tc.args)
		}
		if _, err := os.Stat("out"); err == nil {
			t.Errorf("%q: created the output directory", tc.args)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"help", "inject"}, {"help", "strip"}, {"inject", "-h"}, {"strip", "--help"}, {"version"}, {"help", "version"}} {
		code, out, errs := runT(t, "", args...)
		if code != 0 || out == "" || errs != "" {
			t.Errorf("%q: code %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	_, out, _ := runT(t, "", "help", "inject")
	for _, f := range []string{"--config-set NAME", "--tag NAME=VALUE", "--header 'NAME: VALUE'", "--tags-mode", "--files-from FILE", "-0, --null", "-n, --dry-run", "--progress", "--json", "--ext .EXT", "--all-files", "-i, --in-place", "-o, --output DIR", "-r, --recursive", "-j, --jobs N", "Output directory"} {
		if !strings.Contains(out, f) {
			t.Errorf("help inject lacks %s", f)
		}
	}
	if _, out, _ := runT(t, "", "version"); !strings.HasPrefix(out, "sesmime ") {
		t.Errorf("version: %q", out)
	}
}

func TestSingleFileToStdout(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"b.eml": msgB})
	chdir(t, dir)
	code, out, errs := runT(t, "", "inject", "--config-set", "news", "b.eml")
	if want := "X-SES-CONFIGURATION-SET: news\n" + msgB; code != 0 || out != want || errs != "" {
		t.Errorf("code %d, stdout %q, stderr %q; want %q", code, out, errs, want)
	}
	if readFile(t, "b.eml") != msgB {
		t.Error("input changed")
	}
}

func TestInPlace(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.eml": msgA, "b.eml": "X-SES-CONFIGURATION-SET: news\n" + msgB})
	chdir(t, dir)
	if err := os.Chmod("a.eml", 0o640); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, f := range []string{"a.eml", "b.eml"} {
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs := runT(t, "", "inject", "-i", "--config-set", "news", "a.eml", "b.eml")
	if code != 0 || out != "" {
		t.Fatalf("code %d, stdout %q, stderr %q", code, out, errs)
	}
	if !strings.Contains(errs, "2 files: 1 changed, 1 unchanged, 0 failed") {
		t.Errorf("summary: %q", errs)
	}
	if got, want := readFile(t, "a.eml"), "X-SES-CONFIGURATION-SET: news\r\n"+msgA; got != want {
		t.Errorf("a.eml = %q, want %q", got, want)
	}
	fa, _ := os.Stat("a.eml")
	if fa.Mode().Perm() != 0o640 {
		t.Errorf("a.eml mode %v, want 0640", fa.Mode())
	}
	if fa.ModTime().Equal(old) {
		t.Error("a.eml mtime not updated")
	}
	fb, _ := os.Stat("b.eml")
	if !fb.ModTime().Equal(old) {
		t.Errorf("unchanged b.eml was rewritten: mtime %v", fb.ModTime())
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

func TestInPlaceSymlinkStaysLink(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"real/a.eml": msgB})
	chdir(t, dir)
	if err := os.Symlink("real/a.eml", "link.eml"); err != nil {
		t.Skip(err)
	}
	if code, _, errs := runT(t, "", "inject", "-i", "--config-set", "n", "link.eml"); code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	if fi, err := os.Lstat("link.eml"); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link.eml is no longer a symlink: %v %v", fi, err)
	}
	if got := readFile(t, "real/a.eml"); !strings.HasPrefix(got, "X-SES-CONFIGURATION-SET: n\n") {
		t.Errorf("target not rewritten: %q", got)
	}
}

func TestOutDirMirrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"in/a.eml": msgA, "in/x/y/b.eml": msgB, "in/notes.txt": "hi"})
	chdir(t, dir)
	code, _, errs := runT(t, "", "inject", "-r", "-o", "out", "--config-set", "n", "in")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	// Relative to the directory argument, as cp -r in/. out.
	if got := readFile(t, "out/x/y/b.eml"); got != "X-SES-CONFIGURATION-SET: n\n"+msgB {
		t.Errorf("out/x/y/b.eml = %q", got)
	}
	if got := readFile(t, "out/a.eml"); !strings.HasSuffix(got, msgA) {
		t.Errorf("out/a.eml = %q", got)
	}
	if _, err := os.Stat("out/notes.txt"); err == nil {
		t.Error("notes.txt was taken without --ext .txt")
	}
	if readFile(t, "in/a.eml") != msgA {
		t.Error("input changed")
	}
}

func TestOutDirNoEscape(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"w/a.eml": msgB, "w/sub/b.eml": msgB, "victim/b.eml": "keep"})
	chdir(t, filepath.Join(dir, "w"))
	if err := os.MkdirAll("out", 0o755); err != nil {
		t.Fatal(err)
	}
	// A symlink inside the output directory must not lead writes outside it.
	if err := os.Symlink(filepath.Join(dir, "victim"), "out/sub"); err != nil {
		t.Skip(err)
	}
	list := "a.eml\n../victim/b.eml\nsub/b.eml\n"
	code, _, errs := runT(t, list, "inject", "-o", "out", "--config-set", "n", "--files-from", "-")
	if code != 1 {
		t.Errorf("code %d, want 1; stderr %q", code, errs)
	}
	if !strings.Contains(errs, "sesmime: ../victim/b.eml: ") || !strings.Contains(errs, "sesmime: sub/b.eml: ") {
		t.Errorf("stderr %q does not report both escapes", errs)
	}
	if got := readFile(t, filepath.Join(dir, "victim/b.eml")); got != "keep" {
		t.Errorf("wrote outside the output directory: %q", got)
	}
	if readFile(t, "out/a.eml") != "X-SES-CONFIGURATION-SET: n\n"+msgB {
		t.Error("out/a.eml not written")
	}
}

func TestRecursion(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"t/a.eml": msgB, "t/d/b.EML": msgB, "t/c.msg": msgB, "t/skip.txt": msgB,
		"elsewhere/e.eml": msgB,
	})
	chdir(t, dir)
	if err := os.Symlink("../elsewhere", "t/linkdir"); err != nil {
		t.Skip(err)
	}
	if err := os.Symlink("a.eml", "t/link.eml"); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runT(t, "", "inject", "-i", "-r", "--ext", ".eml", "--ext", "msg", "--config-set", "n", "--json", "t")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	var paths []string
	var skipped []string
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var r struct {
			Path    string
			Skipped string
			Summary *stats
		}
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		switch {
		case r.Summary != nil:
			if r.Summary.Files != 3 || r.Summary.Changed != 3 || r.Summary.Skipped != 1 {
				t.Errorf("summary %+v", *r.Summary)
			}
		case r.Skipped != "":
			skipped = append(skipped, r.Path)
		default:
			paths = append(paths, r.Path)
		}
	}
	if want := []string{"t/a.eml", "t/c.msg", "t/d/b.EML"}; !slices.Equal(paths, want) {
		t.Errorf("files %q, want %q", paths, want)
	}
	if want := []string{"t/link.eml"}; !slices.Equal(skipped, want) {
		t.Errorf("skipped %q, want %q", skipped, want)
	}
	if readFile(t, "elsewhere/e.eml") != msgB {
		t.Error("followed a symlinked directory")
	}
	if readFile(t, "t/skip.txt") != msgB {
		t.Error("took a file without a matching --ext")
	}
	// Without --json the skip is a note on stderr.
	_, _, errs = runT(t, "", "strip", "-i", "-r", "--config-set", "t")
	if !strings.Contains(errs, "sesmime: t/link.eml: skipped: not a regular file (symlink)") {
		t.Errorf("no note for the symlink: %q", errs)
	}
	if code, _, errs := runT(t, "", "inject", "-i", "--config-set", "n", "t"); code != 1 || !strings.Contains(errs, "use -r") {
		t.Errorf("directory without -r: code %d, stderr %q", code, errs)
	}
}

// badMessages fail in the library with a line number.
var badMessages = map[string]struct {
	msg, want string
}{
	"long.eml":   {"Subject: " + strings.Repeat("x", 70<<10) + "\n\nb\n", "line 1: header line is longer than 65,536 bytes"},
	"empty.eml":  {"", "empty message"},
	"merge.eml":  {"Subject: s\nX-SES-MESSAGE-TAGS: a=b, broken\n\nb\n", `line 2, column 26: malformed tag "broken": not name=value`},
	"second.eml": {"Subject: s\nX-A: " + strings.Repeat("y", 70<<10) + "\n\nb\n", "line 2: "},
}

func TestFailingFileDoesNotStopTheRun(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	var names []string
	for i := range 20 {
		n := filepath.Join("m", string(rune('a'+i))+".eml")
		files[n] = msgB
		names = append(names, n)
	}
	for n, b := range badMessages {
		files[filepath.Join("m", n)] = b.msg
	}
	writeFiles(t, dir, files)
	chdir(t, dir)
	code, _, errs := runT(t, "", "inject", "-i", "-r", "--tags-mode", "merge", "--tag", "c=d", "m")
	if code != 1 {
		t.Errorf("code %d, want 1", code)
	}
	for n, b := range badMessages {
		want := "sesmime: " + filepath.Join("m", n) + ": " + b.want
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
		if readFile(t, filepath.Join("m", n)) != b.msg {
			t.Errorf("failed %s was changed", n)
		}
	}
	for _, n := range names {
		if !strings.HasPrefix(readFile(t, n), "X-SES-MESSAGE-TAGS: c=d\n") {
			t.Errorf("%s not rewritten", n)
		}
	}
	if !strings.Contains(errs, "24 files: 20 changed, 0 unchanged, 4 failed") {
		t.Errorf("summary: %q", errs)
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

func TestStableOrderAnyJ(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	var list strings.Builder
	for i := range 200 {
		n := filepath.Join("d", strings.Repeat("z", i%7)+string(rune('a'+i%26))+"_"+strconv.Itoa(i)+".eml")
		if i%17 == 0 {
			files[n] = ""
		} else {
			files[n] = msgB
		}
		list.WriteString(n + "\n")
	}
	writeFiles(t, dir, files)
	chdir(t, dir)
	var first string
	for _, j := range []string{"1", "3", "16"} {
		code, out, errs := runT(t, list.String(), "inject", "--dry-run", "--json", "-j", j, "--config-set", "n", "--files-from", "-")
		if code != 1 {
			t.Errorf("-j %s: code %d: %s", j, code, errs)
		}
		out = out[:strings.LastIndex(out, `{"summary"`)] // elapsed differs
		var gotErrs []string
		for l := range strings.SplitSeq(errs, "\n") {
			if strings.Contains(l, ": line ") {
				gotErrs = append(gotErrs, l)
			}
		}
		report := out + strings.Join(gotErrs, "\n")
		if first == "" {
			first = report
		} else if report != first {
			t.Errorf("-j %s: report differs from -j 1", j)
		}
	}
	// the order is the list's order
	var paths []string
	for l := range strings.SplitSeq(strings.TrimSpace(first), "\n") {
		var r fileRecord
		if json.Unmarshal([]byte(l), &r) == nil && r.Path != "" {
			paths = append(paths, r.Path)
		}
	}
	if want := strings.Fields(list.String()); !slices.Equal(paths, want) {
		t.Errorf("order %q, want %q", paths, want)
	}
}

func TestFilesFromFile(t *testing.T) {
	dir := t.TempDir()
	// Names are verbatim: "crt.eml\r" is not crt.eml.
	writeFiles(t, dir, map[string]string{"a.eml": msgA, "b/b.eml": msgB, "crt.eml": msgB, "list": "a.eml\n\nb/b.eml\nmissing.eml\ncrt.eml\r\n"})
	chdir(t, dir)
	code, _, errs := runT(t, "", "inject", "-o", "out", "--config-set", "n", "--files-from", "list")
	if code != 1 || !strings.Contains(errs, "sesmime: missing.eml: stat: no such file or directory") || !strings.Contains(errs, `sesmime: "crt.eml\r": stat: no such file or directory`) {
		t.Errorf("code %d, stderr %q", code, errs)
	}
	if _, err := os.Stat("out/crt.eml"); err == nil {
		t.Error(`"crt.eml\r" in the list wrote crt.eml`)
	}
	for _, f := range []string{"out/a.eml", "out/b/b.eml"} {
		if !strings.HasPrefix(readFile(t, f), "X-SES-CONFIGURATION-SET: n") {
			t.Errorf("%s not written", f)
		}
	}
	if code, _, errs := runT(t, "", "inject", "-i", "--config-set", "n", "--files-from", "nolist"); code != 1 || !strings.Contains(errs, "--files-from") {
		t.Errorf("missing list: code %d, stderr %q", code, errs)
	}
	// A list with no separator for more than 1 MiB ends in an error, after
	// the names before it.
	writeFiles(t, dir, map[string]string{"long": "a.eml\n" + strings.Repeat("x", 2<<20)})
	code, _, errs = runT(t, "", "inject", "-n", "--config-set", "n", "--files-from", "long")
	if code != 1 || !strings.Contains(errs, "sesmime: long: --files-from: a name longer than 1 MiB\n") || !strings.Contains(errs, "2 files: 1 changed") {
		t.Errorf("long name: code %d, stderr %q", code, errs)
	}
}

func TestDryRun(t *testing.T) {
	dir := t.TempDir()
	in := "Subject: s\nX-SES-MESSAGE-TAGS: a=b\nX-SES-CONFIGURATION-SET: old\nX-SES-CONFIGURATION-SET: dup\n\nb\n"
	writeFiles(t, dir, map[string]string{"a.eml": in, "b.eml": "X-SES-CONFIGURATION-SET: n\nS: t\n\nb\n"})
	chdir(t, dir)
	code, out, errs := runT(t, "", "inject", "--dry-run", "--config-set", "n", "--header", "X-Campaign: c1", "a.eml", "b.eml")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	want := "a.eml: added X-Campaign: \"c1\"\n" +
		"a.eml: replaced X-SES-CONFIGURATION-SET (line 3): \"old\" -> \"n\"\n" +
		"a.eml: removed X-SES-CONFIGURATION-SET (line 4): \"dup\"\n" +
		"b.eml: added X-Campaign: \"c1\"\n"
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if readFile(t, "a.eml") != in {
		t.Error("dry run changed a file")
	}
	_, out, _ = runT(t, "X-SES-CONFIGURATION-SET: n\n\nb\n", "inject", "--dry-run", "--config-set", "n")
	if out != "<stdin>: unchanged\n" {
		t.Errorf("stdin dry run: %q", out)
	}
	if _, err := os.Stat("out"); err == nil {
		t.Error("dry run made -o DIR")
	}
}

func TestJSONAndSummary(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.eml": msgA, "b.eml": "", "c.eml": "X-SES-CONFIGURATION-SET: n\n\nb\n"})
	chdir(t, dir)
	now = func() time.Time { return time.Unix(0, 0) }
	t.Cleanup(func() { now = time.Now })
	code, out, errs := runT(t, "", "inject", "-i", "--json", "--config-set", "n", "a.eml", "b.eml", "c.eml")
	if code != 1 {
		t.Errorf("code %d", code)
	}
	want := `{"path":"a.eml","changed":true,"bytes":77,"changes":[{"op":"added","field":"X-SES-CONFIGURATION-SET","line":0,"old":"","new":"n"}]}
{"path":"b.eml","changed":false,"bytes":0,"error":"empty message"}
{"path":"c.eml","changed":false,"bytes":0}
{"summary":{"files":3,"changed":1,"unchanged":1,"failed":1,"skipped":0,"bytes":77,"elapsed_seconds":0}}
`
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if strings.Contains(errs, "files:") {
		t.Errorf("text summary with --json: %q", errs)
	}
	_, _, errs = runT(t, "", "inject", "-i", "--config-set", "n", "a.eml", "b.eml", "c.eml")
	if want := "sesmime: 3 files: 0 changed, 2 unchanged, 1 failed; 0 bytes written in 0s\n"; !strings.HasSuffix(errs, want) {
		t.Errorf("stderr %q, want suffix %q", errs, want)
	}
}

func TestProgressNeverOnBuffer(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.eml": msgA, "b.eml": msgB})
	chdir(t, dir)
	_, _, errs := runT(t, "", "inject", "-i", "--config-set", "n", "a.eml", "b.eml")
	if strings.Contains(errs, "%") {
		t.Errorf("progress bar on a non-terminal: %q", errs)
	}
	_, _, errs = runT(t, "", "inject", "-i", "--progress", "always", "--config-set", "m", "a.eml", "b.eml")
	// The bar is redrawn in place, and cleared at the end, with escape
	// sequences even on a non-terminal.
	if !strings.Contains(errs, "\x1b[") || !strings.Contains(errs, "files ") {
		t.Errorf("--progress always drew no bar: %q", errs)
	}
}

func TestCancelledRun(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.eml": msgA, "b.eml": msgB})
	chdir(t, dir)
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(interrupted{syscall.SIGINT})
	var out, errb bytes.Buffer
	code := runContext(ctx, []string{"inject", "-i", "--config-set", "n", "a.eml", "b.eml"}, strings.NewReader(""), &out, &errb)
	if code == 0 || code == 1 || code == 2 {
		t.Errorf("code %d, want 128+signal", code)
	}
	if readFile(t, "a.eml") != msgA || readFile(t, "b.eml") != msgB {
		t.Error("files changed by a cancelled run")
	}
	if !strings.HasSuffix(errb.String(), "sesmime: stopped by SIGINT after 0 of 2 files; the other 2 are untouched\n") {
		t.Errorf("stderr %q", errb.String())
	}
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&parse.ValueError{Line: 4, Column: 2, Value: "x", Err: parse.ErrInvalidTag}, `line 4, column 2: invalid tag "x": not allowed`},
		{&headerblock.SyntaxError{Line: 3, Offset: 9, Text: "oops", Limit: 65536, Err: headerblock.ErrLineTooLong}, `line 3: header line is longer than 65,536 bytes: "oops"`},
		{&headerblock.SyntaxError{Err: headerblock.ErrEmpty}, "empty message"},
		{errors.New("plain"), "plain"},
		{&fs.PathError{Op: "open", Path: "p", Err: fs.ErrPermission}, "open: permission denied"},
	} {
		if got := describe("p", tc.err); got != tc.want {
			t.Errorf("describe(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestFlagForms runs the flag spellings Unix users type: attached values,
// combined short flags, --name=value, and flags after PATHs.
func TestFlagForms(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"attached -j and combined -ir", []string{"inject", "--config-set", "news", "-j2", "-ir", "d"}},
		{"--name=value", []string{"inject", "--config-set=news", "--tag=campaign=spring", "--jobs=1", "--in-place", "--recursive", "d"}},
		{"flags after PATH", []string{"inject", "d", "-ri", "--config-set", "news", "--tag", "campaign=spring"}},
		{"-o attached", []string{"inject", "--config-set", "news", "-r", "-oout", "d"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"d/a.eml": msgA, "d/b.eml": msgB})
			chdir(t, dir)
			code, out, errs := runT(t, "", append(tc.args, "--progress=never")...)
			if code != 0 || out != "" {
				t.Fatalf("%q: code %d, stdout %q, stderr %q", tc.args, code, out, errs)
			}
			got := filepath.Join("d", "b.eml")
			if slices.Contains(tc.args, "-oout") {
				got = filepath.Join("out", "b.eml")
			}
			if !strings.HasPrefix(readFile(t, got), "X-SES-CONFIGURATION-SET: news\n") {
				t.Errorf("%s not rewritten: %q", got, readFile(t, got))
			}
		})
	}
}

// TestFlagHints checks the usage errors that say what to type instead.
func TestFlagHints(t *testing.T) {
	tests := []struct {
		args []string
		want string // the first line of stderr
	}{
		{[]string{"injcet", "--tag", "a=b"}, `sesmime: unknown verb "injcet": did you mean inject?`},
		{[]string{"inject", "--conifg-set", "x"}, "sesmime inject: unknown flag --conifg-set: did you mean --config-set?"},
		{[]string{"inject", "--tags", "a=b"}, "sesmime inject: unknown flag --tags: did you mean --tag?"},
		{[]string{"strip", "--dryrun", "--tags"}, "sesmime strip: unknown flag --dryrun: did you mean --dry-run?"},
		{[]string{"check", "--jsno"}, "sesmime check: unknown flag --jsno: did you mean --json?"},
		{[]string{"inject", "--frobnicate"}, "sesmime inject: unknown flag --frobnicate"},
		{[]string{"inject", "-config-set", "x"}, "sesmime inject: unknown flag -config-set: did you mean --config-set?"},
		{[]string{"inject", "-json", "--tag", "a=b"}, "sesmime inject: unknown flag -json: did you mean --json?"},
		{[]string{"inject", "--tag", "a=b,c=d"}, `sesmime inject: --tag "a=b,c=d": one tag per --tag; repeat --tag for each (--tag a=b --tag ...)`},
		{[]string{"inject", "--header", "X-SES-CONFIGURATION-SET: news"}, `sesmime inject: --header "X-SES-CONFIGURATION-SET: news": use --config-set to set X-SES-CONFIGURATION-SET`},
		{[]string{"inject", "--header", "x-ses-message-tags: a=b"}, `sesmime inject: --header "x-ses-message-tags: a=b": use --tag NAME=VALUE (once per tag) to set X-SES-MESSAGE-TAGS`},
		{[]string{"strip", "--header", "Subject"}, `sesmime strip: --header "Subject": refusing to remove an address, structural or unique field; add --force to remove it anyway`},
		{[]string{"strip", "--header", "from"}, `sesmime strip: --header "from": refusing to remove an address, structural or unique field; add --force to remove it anyway`},
		{[]string{"inject", "--tags-mode", "union", "--tag", "a=b"}, `sesmime inject: --tags-mode "union": want replace, merge or keep`},
		{[]string{"inject", "--dry-run=maybe", "--tag", "a=b"}, `sesmime inject: --dry-run "maybe": want true or false`},
		{[]string{"inject", "-0", "--tag", "a=b"}, "sesmime inject: -0 goes with --files-from"},
		{[]string{"check", "--ext", "*.eml"}, `sesmime check: --ext "*.eml": want a name ending such as .eml, or '*' for every file`},
	}
	for _, tc := range tests {
		code, out, errs := runT(t, msgA, tc.args...)
		first, _, _ := strings.Cut(errs, "\n")
		if code != 2 || out != "" || first != tc.want {
			t.Errorf("%q: code %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, out, errs, tc.want)
		}
	}
	// Forced, strip removes what it refused.
	code, out, errs := runT(t, msgA, "strip", "--header", "Subject", "--force")
	if want := "X-SES-MESSAGE-TAGS: old=1\r\n\r\nbody a\r\n"; code != 0 || out != want {
		t.Errorf("strip --header Subject --force: code %d, stdout %q, stderr %q; want %q", code, out, errs, want)
	}
	// X-SES-* names need no --force.
	if code, _, errs := runT(t, msgA, "strip", "--header", "X-SES-MESSAGE-TAGS"); code != 0 {
		t.Errorf("strip --header X-SES-MESSAGE-TAGS: code %d, stderr %q", code, errs)
	}
}

// TestFileSelection covers what -r takes: *.eml by default, every regular
// file with --all-files or --ext '*', never dotfiles; a run that matched
// nothing says what it skipped and exits 1.
func TestFileSelection(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"md/cur/1700000000.M1P2.host:2,S": msgB, "md/new/1700000001.M2P3.host": msgB,
		"md/cur/.hidden": msgB, "md/.Sent/cur/1700000002.M3P4.host:2,S": msgB,
	})
	chdir(t, dir)
	code, out, errs := runT(t, "", "inject", "-ir", "--config-set", "n", "md")
	if code != 1 || out != "" || errs != "sesmime: 0 files (4 skipped: not *.eml, 1 dotfile)\n" {
		t.Errorf("no *.eml: code %d, stdout %q, stderr %q", code, out, errs)
	}
	code, _, errs = runT(t, "", "check", "-r", "md")
	if code != 1 || !strings.HasPrefix(errs, "sesmime: 0 files (4 skipped: not *.eml, 1 dotfile)\n") {
		t.Errorf("check, no *.eml: code %d, stderr %q", code, errs)
	}
	for _, flag := range [][]string{{"--all-files"}, {"--ext", "*"}} {
		writeFiles(t, dir, map[string]string{"md/new/1700000001.M2P3.host": msgB})
		code, _, errs = runT(t, "", append([]string{"inject", "-ir", "--dry-run", "--config-set", "n", "md"}, flag...)...)
		if code != 0 || !strings.HasPrefix(errs, "sesmime: 3 files: 3 changed, 0 unchanged, 0 failed;") || !strings.HasSuffix(errs, " (1 skipped: 1 dotfile)\n") {
			t.Errorf("%q: code %d, stderr %q", flag, code, errs)
		}
	}
	if readFile(t, "md/cur/.hidden") != msgB {
		t.Error("a dotfile was rewritten")
	}
}

// TestFilesFromNull reads a find -print0 list: names end in NUL and may
// hold a newline.
func TestFilesFromNull(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"two\nlines.eml": msgB, "plain.eml": msgB})
	chdir(t, dir)
	code, _, errs := runT(t, "two\nlines.eml\x00plain.eml\x00", "inject", "-i", "-0", "--files-from", "-", "--config-set", "n")
	if code != 0 || !strings.HasPrefix(errs, "sesmime: 2 files: 2 changed") {
		t.Errorf("code %d, stderr %q", code, errs)
	}
	for _, f := range []string{"two\nlines.eml", "plain.eml"} {
		if !strings.HasPrefix(readFile(t, f), "X-SES-CONFIGURATION-SET: n\n") {
			t.Errorf("%q not rewritten", f)
		}
	}
	// Without -0 the newline splits the name.
	code, _, errs = runT(t, "two\nlines.eml\n", "inject", "-i", "--files-from", "-", "--config-set", "m")
	if code != 1 || !strings.Contains(errs, "sesmime: two: stat: no such file or directory") || !strings.Contains(errs, "sesmime: lines.eml: stat") {
		t.Errorf("without -0: code %d, stderr %q", code, errs)
	}
}

// TestOutDirAbsoluteAndClash mirrors absolute inputs under -o and refuses
// two inputs with one output.
func TestOutDirAbsoluteAndClash(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"d1/a.eml": msgA, "d2/a.eml": msgB, "d2/b.eml": msgB})
	chdir(t, dir)
	abs := filepath.Join(dir, "d1", "a.eml")
	code, _, errs := runT(t, abs+"\n", "inject", "-o", "out", "--files-from", "-", "--config-set", "n")
	if code != 0 {
		t.Fatalf("absolute: code %d, stderr %q", code, errs)
	}
	if got := readFile(t, filepath.Join("out", abs)); !strings.HasSuffix(got, msgA) {
		t.Errorf("out/%s = %q", abs, got)
	}
	code, _, errs = runT(t, "", "inject", "-r", "-o", "out2", "--config-set", "n", "d1", "d2")
	if want := "sesmime: d2/a.eml: output out2/a.eml is also the output of d1/a.eml\n"; code != 1 || !strings.HasPrefix(errs, want) {
		t.Errorf("clash: code %d, stderr %q, want %q", code, errs, want)
	}
	if got := readFile(t, "out2/a.eml"); !strings.HasSuffix(got, msgA) {
		t.Errorf("out2/a.eml = %q, want d1's", got)
	}
}

// TestProgressTotal checks that the bar shows done/total of the whole run,
// counted ahead, and ends at 100%.
func TestProgressTotal(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 30 {
		files[fmt.Sprintf("d/m%02d.eml", i)] = msgB
	}
	writeFiles(t, dir, files)
	chdir(t, dir)
	code, _, errs := runT(t, "", "inject", "-ir", "--progress", "always", "--config-set", "n", "d")
	if code != 0 {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
	// The last frame starts after the last "\r" and ends in an erase.
	bar, _, _ := strings.Cut(errs[strings.LastIndex(errs, "\r")+1:], "\x1b[K")
	if !strings.HasPrefix(bar, "30/30 files 100% [") {
		t.Errorf("final bar %q, want 30/30 files 100%%", bar)
	}
}

// TestCountBehindTheRun: the bar's total takes each input's size from the
// first of the run and the count to list it, so a count that falls behind
// a run in place does not add the files already rewritten at their new
// size (TestProgressTotal's bar then stopped short of 100%).
func TestCountBehindTheRun(t *testing.T) {
	var tl tally
	tl.list(100) // the run lists two inputs of 100 bytes and rewrites them
	tl.list(100)
	tl.add(127) // then the count finds them at 127 bytes
	tl.add(127)
	tl.add(100) // and goes ahead of the run
	tl.add(100)
	tl.list(100)
	tl.list(100)
	if tl.files.Load() != 4 || tl.bytes != 400 {
		t.Errorf("count: %d files, %d bytes; want 4 files, 400 bytes", tl.files.Load(), tl.bytes)
	}
}

// TestDryRunTagsMerge shows the old and the new tag list of a merge.
func TestDryRunTagsMerge(t *testing.T) {
	code, out, errs := runT(t, msgA, "inject", "--dry-run", "--tags-mode", "merge", "--tag", "campaign=spring")
	if want := "<stdin>: replaced X-SES-MESSAGE-TAGS (line 2): \"old=1\" -> \"old=1, campaign=spring\"\n"; code != 0 || out != want {
		t.Errorf("code %d, stdout %q, stderr %q; want %q", code, out, errs, want)
	}
}

// TestEmptyFileError names no line for an empty file.
func TestEmptyFileError(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"empty.eml": ""})
	chdir(t, dir)
	code, _, errs := runT(t, "", "inject", "--config-set", "n", "empty.eml")
	if code != 1 || strings.Contains(errs, "line") || !strings.HasPrefix(errs, "sesmime: empty.eml: ") || !strings.Contains(errs, "empty message") {
		t.Errorf("code %d, stderr %q", code, errs)
	}
}

// readOnlyDir makes dir refuse new files, also to root (with chattr +i,
// which root cannot pass, or on a file system without inode flags such as
// ramfs a read-only bind mount of dir on itself), until the test ends.
func readOnlyDir(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("chattr", "+i", dir).CombinedOutput()
	if err == nil {
		t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
		return
	}
	if bout, berr := exec.Command("mount", "-o", "bind,ro", dir, dir).CombinedOutput(); berr != nil {
		t.Skipf("chattr +i %s: %v %s; mount -o bind,ro: %v %s", dir, err, out, berr, bout)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
}

// TestNotWritableDir reports a directory -i or -o cannot write in once,
// by its name, not by a temporary file's, and not once per file.
func TestNotWritableDir(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"ro/1.eml": msgB, "ro/2.eml": msgB, "ro/3.eml": msgB, "out/x": ""})
	chdir(t, dir)
	readOnlyDir(t, "ro")
	readOnlyDir(t, "out")
	code, out, errs := runT(t, "", "inject", "-ir", "--config-set", "n", "ro")
	if want := "sesmime: ro: not writable (needed by -i)\nsesmime: 3 files: 0 changed, 0 unchanged, 3 failed;"; code != 1 || out != "" || !strings.HasPrefix(errs, want) {
		t.Errorf("-i: code %d, stderr %q, want %q...", code, errs, want)
	}
	code, _, errs = runT(t, "", "inject", "-r", "-o", "out", "--config-set", "n", "ro")
	if want := "sesmime: out: not writable (needed by -o)\nsesmime: 3 files: 0 changed, 0 unchanged, 3 failed;"; code != 1 || !strings.HasPrefix(errs, want) {
		t.Errorf("-o: code %d, stderr %q, want %q...", code, errs, want)
	}
	code, out, _ = runT(t, "", "inject", "-ir", "--json", "--config-set", "n", "ro")
	if code != 1 || strings.Count(out, `"error":"ro: not writable (needed by -i)"`) != 3 || strings.Contains(out, tempPrefix) {
		t.Errorf("--json: code %d, stdout %q", code, out)
	}
}
