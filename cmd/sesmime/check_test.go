package main

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/sesmime/sesmime/internal/testmsg"
)

const (
	checkClean = "Subject: a\r\nX-SES-CONFIGURATION-SET: news\r\n\r\nbody\r\n"
	checkWarn  = "Subject: caf\xc3\xa9\r\n\r\nbody\r\n"                                           // header-8bit at 1
	checkErr   = "Subject: a\nTo: b@example.com\nSubject: b\nX-SES-MESSAGE-TAGS: a=1, a=2\n\nx\n" // duplicate-field at 3, tag-duplicate-name at 4
)

func TestCheckStdin(t *testing.T) {
	tests := []struct {
		name, in string
		args     []string
		code     int
		out      string
	}{
		{"clean", checkClean, nil, 0, ""},
		{"clean dash", checkClean, []string{"-"}, 0, ""},
		{"warning only", checkWarn, nil, 0, "<stdin>:1: warning: header-8bit: "},
		{"error", checkErr, nil, 1, "<stdin>:3: error: duplicate-field: Subject appears again (first at line 1)"},
		{"custom header", "X-Campaign: a b\n\nx\n", []string{"--header", "X-Campaign"}, 0, "<stdin>:1: warning: header-invalid: "},
		{"v2", checkClean, []string{"--api", "v2"}, 0, "<stdin>:2: warning: ses-fields-v2: "},
	}
	for _, tc := range tests {
		code, out, errs := runT(t, tc.in, append([]string{"check"}, tc.args...)...)
		if code != tc.code || !strings.Contains(out, tc.out) || (tc.out == "") != (out == "") || errs != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q", tc.name, code, out, errs, tc.code, tc.out)
		}
	}
}

func TestCheckUsage(t *testing.T) {
	for _, args := range [][]string{
		{"check", "--api", "v3"},
		{"check", "-j", "0"},
		{"check", "--progress", "sometimes"},
		{"check", "--nope"},
		{"check", "-", "a.eml"},
		{"check", "--header", "X-A: b"},
		{"check", "-i", "a.eml"}, // check writes nothing
		{"check", ""},
	} {
		code, out, errs := runT(t, checkClean, args...)
		if code != exitUsage || out != "" || !strings.Contains(errs, "sesmime check: ") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want a usage error", args, code, out, errs)
		}
	}
	for _, args := range [][]string{{"help", "check"}, {"check", "-h"}} {
		code, out, _ := runT(t, "", args...)
		if code != 0 || !strings.Contains(out, "usage: sesmime check") || !strings.Contains(out, "-api") {
			t.Errorf("%q: exit %d, stdout %q", args, code, out)
		}
	}
	if _, out, _ := runT(t, "", "help"); !strings.Contains(out, "check") {
		t.Errorf("main usage does not list check:\n%s", out)
	}
}

// TestCheckTree checks a tree with several workers: the report is sorted by
// path then line whatever the walk order, warnings alone exit 0, and an
// unreadable file is reported on stderr and exits 1.
func TestCheckTree(t *testing.T) {
	dir := t.TempDir()
	chdir(t, dir)
	writeFiles(t, dir, map[string]string{
		"m/b.eml":      checkErr,
		"m/a/z.eml":    checkWarn,
		"m/a.eml":      checkErr,
		"m/clean.eml":  checkClean,
		"m/skip.txt":   checkErr,
		"m/c/warn.eml": "Subject: \xff\nX-SES-RECEIPT: x\n\nbody\n",
	})
	want := strings.Join([]string{
		"m/a.eml:3: error: duplicate-field: ",
		"m/a.eml:4: error: tag-duplicate-name: ",
		"m/a/z.eml:1: warning: header-8bit: ",
		"m/b.eml:3: error: duplicate-field: ",
		"m/b.eml:4: error: tag-duplicate-name: ",
		"m/c/warn.eml:1: warning: header-8bit: ",
		"m/c/warn.eml:2: warning: inbound-leftover: ",
	}, "\n")
	for _, j := range []string{"1", "4"} {
		code, out, errs := runT(t, "", "check", "-r", "-j", j, "m")
		if code != 1 {
			t.Errorf("-j %s: exit %d, want 1", j, code)
		}
		if got := prefixes(out); got != want {
			t.Errorf("-j %s: stdout\n%s\nwant lines starting\n%s", j, out, want)
		}
		if !strings.Contains(errs, "sesmime: 5 files checked: 4 errors, 3 warnings in 4 files; 0 failed") {
			t.Errorf("-j %s: stderr %q", j, errs)
		}
	}

	// Warnings only: exit 0.
	code, out, _ := runT(t, "", "check", "-r", "m/a", "m/c", "m/clean.eml")
	if code != 0 || prefixes(out) != "m/a/z.eml:1: warning: header-8bit: \nm/c/warn.eml:1: warning: header-8bit: \nm/c/warn.eml:2: warning: inbound-leftover: " {
		t.Errorf("warnings only: exit %d, stdout\n%s", code, out)
	}

	// An unreadable file: stderr, exit 1, the others still checked.
	code, out, errs := runT(t, "", "check", "m/missing.eml", "m/a/z.eml", "m")
	if code != 1 || !strings.Contains(errs, "sesmime: m/missing.eml: ") || !strings.Contains(errs, "sesmime: m: is a directory") || !strings.Contains(out, "m/a/z.eml:1: warning: header-8bit") {
		t.Errorf("unreadable: exit %d, stdout %q, stderr %q", code, out, errs)
	}

	// --files-from.
	code, out, _ = runT(t, "m/clean.eml\nm/a/z.eml\n", "check", "--files-from", "-")
	if code != 0 || prefixes(out) != "m/a/z.eml:1: warning: header-8bit: " {
		t.Errorf("--files-from: exit %d, stdout %q", code, out)
	}
}

// prefixes returns the lines of out cut after the code.
func prefixes(out string) string {
	var lines []string
	for l := range strings.Lines(out) {
		parts := strings.SplitN(l, ": ", 4)
		if len(parts) < 4 {
			lines = append(lines, strings.TrimSuffix(l, "\n"))
			continue
		}
		lines = append(lines, parts[0]+": "+parts[1]+": "+parts[2]+": ")
	}
	return strings.Join(lines, "\n")
}

func TestCheckJSON(t *testing.T) {
	dir := t.TempDir()
	chdir(t, dir)
	writeFiles(t, dir, map[string]string{"b.eml": checkErr, "a.eml": checkWarn})
	code, out, errs := runT(t, "", "check", "--json", "b.eml", "a.eml")
	if code != 1 {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	var got []findingRecord
	for l := range strings.Lines(out) {
		if strings.HasPrefix(l, `{"summary":`) {
			continue
		}
		var r findingRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, r)
	}
	want := []struct {
		path, code, sev string
		line            int
	}{
		{"a.eml", "header-8bit", "warning", 1},
		{"b.eml", "duplicate-field", "error", 3},
		{"b.eml", "tag-duplicate-name", "error", 4},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d objects, want %d:\n%s", len(got), len(want), out)
	}
	for i, w := range want {
		g := got[i]
		if g.Path != w.path || g.Code != w.code || g.Severity != w.sev || g.Line != w.line || g.Message == "" {
			t.Errorf("object %d = %+v, want %+v", i, g, w)
		}
	}
}

// TestCheckCorpus runs check over every file of SESMIME_CORPUS: no crash,
// no file that cannot be read.
func TestCheckCorpus(t *testing.T) {
	dir := testmsg.CorpusDir(t, 2) // tests run in cmd/sesmime, two below the root
	if ents, err := os.ReadDir(dir); err != nil || len(ents) == 0 {
		t.Fatalf("SESMIME_CORPUS=%s: %v, %d entries", dir, err, len(ents))
	}
	code, out, errs := runT(t, "", "check", "-r", "--json", dir)
	if code == exitUsage || strings.Contains(errs, "sesmime: "+dir) {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	counts := map[string]int{}
	for l := range strings.Lines(out) {
		var r findingRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		counts[r.Code]++
	}
	t.Logf("%s", strings.TrimSpace(errs))
	for _, code := range slices.Sorted(maps.Keys(counts)) {
		t.Logf("%6d %s", counts[code], code)
	}
}
