package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesmime/sesmime"
	"github.com/sesmime/sesmime/internal/testmsg"
)

// TestRulesEndToEnd runs the built binary with --rules over a tree in
// place: the files the rules accept are rewritten, a rejected file and one
// whose recipients disagree are left byte for byte as they were, and the
// run exits 1 naming both.
func TestRulesEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	files := map[string]string{
		"mail/eu.eml":         ruleMessages["eu.eml"],
		"mail/plain.eml":      ruleMessages["plain.eml"],
		"mail/sub/spam.eml":   ruleMessages["spam.eml"],
		"mail/sub/mixed.eml":  ruleMessages["mixed.eml"],
		"mail/sub/weekly.eml": ruleMessages["weekly.eml"],
		"rules.toml":          readFile(t, filepath.Join(sourceDir, "testdata", "rules", "rules.toml")),
	}
	writeFiles(t, dir, files)
	code, out, errb := exe(t, bin, dir, "", "inject", "--rules", "rules.toml", "-ir", "-j", "3", "mail")
	if code != exitFailed || out != "" {
		t.Errorf("exit %d, stdout %q; want 1 and nothing", code, out)
	}
	for _, want := range []string{
		`sesmime: mail/sub/spam.eml: rejected by rule 2 "blocked" (rules.toml:11): no spam from here` + "\n",
		`sesmime: mail/sub/mixed.eml: the recipients need different rewrites`,
		"sesmime: 5 files: 3 changed, 0 unchanged, 2 failed",
	} {
		if !strings.Contains(errb, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb)
		}
	}
	wantNow := map[string]string{
		"mail/eu.eml":         "X-SES-CONFIGURATION-SET: eu\r\nX-SES-MESSAGE-TAGS: campaign=spring\r\n" + files["mail/eu.eml"],
		"mail/plain.eml":      "X-SES-CONFIGURATION-SET: transactional\n" + files["mail/plain.eml"],
		"mail/sub/spam.eml":   files["mail/sub/spam.eml"],
		"mail/sub/mixed.eml":  files["mail/sub/mixed.eml"],
		"mail/sub/weekly.eml": "X-SES-CONFIGURATION-SET: newsletters\n" + files["mail/sub/weekly.eml"],
	}
	for name, want := range wantNow {
		if got := readFile(t, filepath.Join(dir, name)); got != want {
			t.Errorf("%s now:\n%q\nwant\n%q", name, got, want)
		}
	}
	if tmp := tempFiles(t, filepath.Join(dir, "mail")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}

	// The dry run through the binary says the same and changes nothing.
	writeFiles(t, dir, map[string]string{"mail/eu.eml": files["mail/eu.eml"]})
	code, out, _ = exe(t, bin, dir, "", "inject", "--rules", "rules.toml", "-n", "--rcpt-to", "x@eu.example.com", "mail/eu.eml")
	if code != exitOK || !strings.Contains(out, "mail/eu.eml: rule: rule 1 \"eu\" (rules.toml:5)\n") || !strings.Contains(out, "mail/eu.eml: added X-SES-MESSAGE-TAGS: \"campaign=spring\"\n") {
		t.Errorf("dry run: exit %d\n%s", code, out)
	}
	if got := readFile(t, filepath.Join(dir, "mail/eu.eml")); got != files["mail/eu.eml"] {
		t.Errorf("dry run changed mail/eu.eml: %q", got)
	}
}

// corpusRules give every message of the corpus the configuration set and
// tags the checker expects, the first through a rule on the envelope
// sender, the second through the [default].
const corpusRules = `[default]
config_set = "corpus"
tags = { campaign = "spring", team = "growth" }

[[rule]]
name = "never"
mail_from = "*@never.example"
reject = "not this sender"

[[rule]]
name = "corpus sender"
mail_from = "*@corpus.example"
header_absent = ["X-Not-In-The-Corpus"]
config_set = "corpus"
tags = { campaign = "spring", team = "growth" }
`

// TestRulesCorpus rewrites every message of SESMIME_CORPUS with one run
// of the built binary's inject --rules -r -o and judges each output with
// the independent checker (../shared/verify/check_inject.py): none may
// fail, and the messages refused must be exactly those sesmime.RewriteBytes
// refuses with the same options. A second run takes the envelope sender
// from the header: a message without a readable sender field is refused
// then, and no output may fail.
func TestRulesCorpus(t *testing.T) {
	dir := testmsg.CorpusDir(t, 2)
	checker := filepath.Join(sourceDir, "..", "..", "..", "shared", "verify", "check_inject.py")
	if _, err := os.Stat(checker); err != nil {
		t.Skipf("no checker: %v", err)
	}
	bin := buildBinary(t)
	work := t.TempDir()
	rulesFile := filepath.Join(work, "rules.toml")
	if err := os.WriteFile(rulesFile, []byte(corpusRules), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := &sesmime.Options{ConfigurationSet: "corpus", Tags: []sesmime.Tag{{Name: "campaign", Value: "spring"}, {Name: "team", Value: "growth"}}}
	refused := map[string]bool{} // by path relative to dir
	var total int
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") || !strings.HasSuffix(d.Name(), ".eml") {
			return err
		}
		msg, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		total++
		if _, err := sesmime.RewriteBytes(msg, opts); err != nil {
			rel, _ := filepath.Rel(dir, p)
			refused[rel] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []struct {
		name  string
		flags []string
		exact bool // the refusals must be RewriteBytes's
	}{
		{"envelope-flag", []string{"--mail-from", "sender@corpus.example"}, true},
		{"header-fallback", nil, false},
	} {
		t.Run(run.name, func(t *testing.T) {
			out := filepath.Join(work, run.name)
			args := append([]string{"inject", "--rules", rulesFile, "--json", "-j", "2", "-r", "-o", out}, run.flags...)
			code, stdout, stderr := exe(t, bin, dir, "", append(args, ".")...)
			if code != exitOK && code != exitFailed {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var list bytes.Buffer
			var errored int
			for _, rec := range jsonLines(t, stdout) {
				path, _ := rec["path"].(string)
				if rec["summary"] != nil || path == "" {
					continue
				}
				rel := filepath.Clean(path)
				if rec["error"] != nil {
					errored++
					if run.exact && !refused[rel] {
						t.Errorf("%s refused through --rules only: %v", rel, rec["error"])
					}
					continue
				}
				if refused[rel] {
					t.Errorf("%s: rewritten through --rules, refused by RewriteBytes", rel)
				}
				fmt.Fprintf(&list, "%d\x00%s\x00%s\x00", list.Len(), filepath.Join(dir, rel), filepath.Join(out, rel))
			}
			listFile := filepath.Join(work, run.name+".list")
			results := filepath.Join(work, run.name+".results")
			os.WriteFile(listFile, list.Bytes(), 0o644)
			os.Mkdir(results, 0o755)
			cmd := exec.Command("python3", checker, "--batch", listFile, "--batch-out", results,
				"--config-set", "corpus", "--tag", "campaign=spring", "--tag", "team=growth", "--mode", "replace")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("checker: %v\n%s", err, b)
			}
			failed, _ := filepath.Glob(filepath.Join(results, "*.failed"))
			passed, _ := filepath.Glob(filepath.Join(results, "*.passed"))
			for _, f := range failed {
				b, _ := os.ReadFile(f)
				t.Errorf("checker failed %s:\n%s", f, b)
			}
			t.Logf("%s: %d messages: %d checked (%d passed, %d failed), %d refused (RewriteBytes refuses %d)",
				run.name, total, len(passed)+len(failed), len(passed), len(failed), errored, len(refused))
			if len(passed)+errored != total {
				t.Errorf("%d passed + %d refused, want %d messages", len(passed), errored, total)
			}
			if run.exact && errored != len(refused) {
				t.Errorf("%d refused through --rules, %d by RewriteBytes", errored, len(refused))
			}
		})
	}
}
