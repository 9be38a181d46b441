package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeExamples runs every "./bin/sesmime ..." line of the README's
// shell examples from the repository root, in-process, and compares its
// first line of output with the "#   " comment under it (up to a
// trailing "..."). It also checks that the README names only files that
// exist in the repository.
func TestReadmeExamples(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme := readFile(t, filepath.Join(root, "README.md"))
	for _, m := range regexp.MustCompile(`\btestdata/[\w./-]+\.eml\b`).FindAllString(readme, -1) {
		if _, err := os.Stat(filepath.Join(root, m)); err != nil {
			t.Errorf("README names %s: %v", m, err)
		}
	}
	for _, m := range regexp.MustCompile(`\]\(([^)#]+)\)`).FindAllStringSubmatch(readme, -1) {
		if strings.Contains(m[1], "://") || strings.HasPrefix(m[1], "..") {
			t.Errorf("README links outside the repository: %s", m[1])
		} else if _, err := os.Stat(filepath.Join(root, m[1])); err != nil {
			t.Errorf("README links %s: %v", m[1], err)
		}
	}
	chdir(t, root)
	lines := strings.Split(readme, "\n")
	ran := 0
	for i, l := range lines {
		cmdline, ok := strings.CutPrefix(strings.TrimSpace(l), "./bin/sesmime ")
		if !ok {
			continue
		}
		if j := strings.Index(cmdline, " && "); j >= 0 {
			cmdline = cmdline[:j]
		}
		var stdin string
		if a, file, ok := strings.Cut(cmdline, " < "); ok {
			cmdline, stdin = a, readFile(t, strings.TrimSpace(file))
		}
		args := strings.Fields(cmdline)
		code, out, errs := runT(t, stdin, args...)
		ran++
		if code != 0 && !(args[0] == "check" && code == 1) {
			t.Errorf("README line %d: sesmime %s: exit %d, stderr %q", i+1, cmdline, code, errs)
			continue
		}
		if i+1 < len(lines) {
			if want, ok := strings.CutPrefix(lines[i+1], "#   "); ok {
				first, _, _ := strings.Cut(out, "\n")
				if w := strings.TrimSuffix(want, "..."); !strings.HasPrefix(first, w) || (w == want && first != want) {
					t.Errorf("README line %d: sesmime %s: first line %q, README says %q", i+1, cmdline, first, want)
				}
			}
		}
	}
	if ran < 3 {
		t.Errorf("ran %d README examples, want at least 3", ran)
	}
}
