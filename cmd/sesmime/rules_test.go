package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/parse"
	"github.com/sesmime/sesmime/rules"
)

var update = flag.Bool("update", false, "rewrite testdata/rules/*.golden")

// golden compares got with testdata/rules/NAME.golden; -update rewrites it.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(sourceDir, "testdata", "rules", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// The messages of TestRules, by file name.
var ruleMessages = map[string]string{
	"eu.eml":      "From: A <a@example.com>\r\nTo: x@eu.example.com\r\nX-Campaign: spring\r\nSubject: hi\r\n\r\nbody\r\n",
	"spam.eml":    "From: a@spam.example\r\nTo: x@example.com\r\n\r\nbody\r\n",
	"mixed.eml":   "From: a@example.com\r\nTo: x@eu.example.com, Y <y@example.net>\r\nCc: z@eu.example.com\r\n\r\nbody\r\n",
	"plain.eml":   "From: a@example.com\nTo: b@example.org\nX-SES-MESSAGE-TAGS: old=1\n\nbody\n",
	"weekly.eml":  "List-Id: The weekly <weekly.example.com>\nFrom: a@example.com\nTo: b@example.org\n\nbody\n",
	"client.eml":  "From: a@example.com\r\nX-SES-CONFIGURATION-SET: theirs\r\nX-SES-MESSAGE-TAGS: old=1\r\n\r\nbody\r\n",
	"rpath.eml":   "Return-Path: <bounce@spam.example>\r\nSender: s@example.com\r\nFrom: a@example.com\r\nTo: x@example.com\r\n\r\nbody\r\n",
	"null.eml":    "Return-Path: <>\r\nFrom: a@spam.example\r\nTo: x@example.com\r\n\r\nbody\r\n",
	"badfrom.eml": "From: a@spam.example, b@spam.example\r\nTo: x@example.com\r\n\r\nbody\r\n",
	"badto.eml":   "From: a@example.com\r\nTo: <<not an address\r\n\r\nbody\r\n",
	"badtag.eml":  "From: a@example.com\r\nTo: x@eu.example.com\r\nX-Campaign: two words\r\n\r\nbody\r\n",
	"norcpt.eml":  "From: a@example.com\r\nBcc:\r\nSubject: none\r\n\r\nbody\r\n",
}

// TestRules runs inject --rules over the messages above and compares each
// run's exit code, stdout and stderr, and the files it leaves, with
// testdata/rules/NAME.golden.
func TestRules(t *testing.T) {
	cases := []struct {
		name  string
		stdin string
		args  []string
	}{
		// Applying the rules.
		{"apply-stdin", ruleMessages["eu.eml"], []string{"--rules", "rules.toml"}},
		{"apply-default", "", []string{"--rules", "rules.toml", "plain.eml"}},
		{"apply-header-rule", "", []string{"--rules", "rules.toml", "weekly.eml"}},
		{"apply-envelope-flags", "", []string{"--rules", "rules.toml", "--auth-user", "app-1", "--client", "10.1.2.3", "--listener", "submission", "client.eml"}},
		{"apply-in-place", "", []string{"--rules", "rules.toml", "-i", "eu.eml", "spam.eml", "mixed.eml", "plain.eml"}},
		{"reject", "", []string{"--rules", "rules.toml", "spam.eml"}},
		{"reject-return-path", "", []string{"--rules", "rules.toml", "rpath.eml"}},
		{"mixed", "", []string{"--rules", "rules.toml", "mixed.eml"}},
		{"rcpt-flag-wins", "", []string{"--rules", "rules.toml", "--rcpt-to", "<y@example.net>", "mixed.eml"}},
		{"rcpt-flags-one-group", "", []string{"--rules", "rules.toml", "--rcpt-to", "x@eu.example.com", "--rcpt-to", "Z@EU.example.com", "mixed.eml"}},
		{"mail-from-flag-wins", "", []string{"--rules", "rules.toml", "--mail-from", "ok@example.com", "spam.eml"}},
		{"null-sender", "", []string{"--rules", "rules.toml", "-n", "null.eml"}},
		{"bad-from", "", []string{"--rules", "rules.toml", "badfrom.eml"}},
		{"bad-to", "", []string{"--rules", "rules.toml", "badto.eml"}},
		{"bad-to-unused", "", []string{"--rules", "mixed.toml", "badto.eml"}},
		{"bad-tag-value", "", []string{"--rules", "rules.toml", "badtag.eml"}},
		{"no-recipients", "", []string{"--rules", "rules.toml", "-n", "norcpt.eml"}},
		// --config-set, --tag, --tags-mode and --header are the [default].
		{"flags-default", "", []string{"--rules", "rules.toml", "--config-set", "cli", "--tag", "t=1", "--tags-mode", "merge", "--header", "X-Team: growth", "plain.eml"}},
		{"flags-rule-wins", "", []string{"--rules", "rules.toml", "--config-set", "cli", "--tag", "t=1", "eu.eml"}},
		{"flags-default-rejects", "", []string{"--rules", "mixed.toml", "--config-set", "cli", "plain.eml"}},
		{"flags-tag-from-header", "", []string{"--rules", "tagheader.toml", "--tag", "campaign=x", "plain.eml"}},
		// Dry runs.
		{"dry-run", "", []string{"--rules", "rules.toml", "--dry-run", "eu.eml", "plain.eml", "weekly.eml"}},
		{"dry-run-envelope", "", []string{"--rules", "rules.toml", "-n", "--mail-from", "", "--rcpt-to", "b@example.org", "--auth-user", "app-1", "--client", "10.1.2.3", "--listener", "submission", "client.eml"}},
		{"dry-run-reject", "", []string{"--rules", "rules.toml", "-n", "spam.eml"}},
		{"dry-run-mixed", "", []string{"--rules", "rules.toml", "-n", "mixed.eml"}},
		{"dry-run-stdin", ruleMessages["weekly.eml"], []string{"--rules", "rules.toml", "-n"}},
		{"dry-run-no-envelope-keys", "", []string{"--rules", "tagheader.toml", "-n", "--listener", "smtp", "eu.eml"}},
		// --json names the rule, configuration set and tags of each file.
		{"json-in-place", "", []string{"--rules", "rules.toml", "--json", "-i", "eu.eml", "spam.eml", "mixed.eml", "plain.eml", "badtag.eml"}},
		{"json-dry-run", "", []string{"--rules", "rules.toml", "--json", "-n", "--rcpt-to", "x@eu.example.com", "eu.eml", "weekly.eml", "client.eml"}},
		{"json-out-dir", "", []string{"--rules", "tagheader.toml", "--json", "-o", "out", "eu.eml", "plain.eml"}},
		// Usage errors.
		{"usage-envelope-without-rules", "", []string{"--config-set", "a", "--rcpt-to", "b@example.com", "plain.eml"}},
		{"usage-empty-rules", "", []string{"--rules", "", "plain.eml"}},
		{"usage-missing-rules", "", []string{"--rules", "none.toml", "plain.eml"}},
		{"usage-bad-rules", "", []string{"--rules", "bad.toml", "plain.eml"}},
		{"usage-bad-client", "", []string{"--rules", "rules.toml", "--client", "10.0.0.0/8", "plain.eml"}},
		{"usage-bad-rcpt", "", []string{"--rules", "rules.toml", "--rcpt-to", "", "plain.eml"}},
		{"usage-bad-mail-from", "", []string{"--rules", "rules.toml", "--mail-from", "a b@example.com", "plain.eml"}},
	}
	defer func(old func() time.Time) { now = old }(now)
	now = func() time.Time { return time.Time{} } // the summary's elapsed time is 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, ruleMessages)
			for _, f := range []string{"rules.toml", "mixed.toml", "bad.toml", "tagheader.toml"} {
				writeFiles(t, dir, map[string]string{f: readFile(t, filepath.Join(sourceDir, "testdata", "rules", f))})
			}
			t.Chdir(dir)
			code, out, errb := runT(t, tc.stdin, append([]string{"inject"}, tc.args...)...)
			got := fmt.Sprintf("$ sesmime inject %s\nexit %d\n--- stdout\n%s--- stderr\n%s", shellWords(tc.args), code, out, errb)
			for _, name := range slices.Sorted(maps.Keys(ruleMessages)) {
				if b := readFile(t, name); b != ruleMessages[name] {
					got += "--- " + name + " now\n" + b
				}
			}
			golden(t, tc.name, got)
		})
	}
}

func shellWords(args []string) string {
	var ws []string
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " <>*") {
			a = "'" + a + "'"
		}
		ws = append(ws, a)
	}
	return strings.Join(ws, " ")
}

func TestFlagAddr(t *testing.T) {
	cases := []struct {
		in   string
		null bool
		want string // or "error"
	}{
		{"a@x", false, "a@x"},
		{" <a@x> ", false, "a@x"},
		{"<>", true, ""},
		{"", true, ""},
		{"", false, "error"},
		{"<>", false, "error"},
		{"a@x b@x", false, "error"},
		{"<a@x", false, "error"},
		{"a@x\r\n", false, "a@x"},
		{"a\x00@x", false, "error"},
	}
	for _, tc := range cases {
		got, err := flagAddr(tc.in, tc.null)
		if tc.want == "error" {
			if err == nil {
				t.Errorf("flagAddr(%q, %v) = %q, want an error", tc.in, tc.null, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("flagAddr(%q, %v) = %q, %v; want %q", tc.in, tc.null, got, err, tc.want)
		}
	}
}

// TestRulesLargeFiles decides on the whole header however the file is
// read: in memory (small), streamed after a 64 KiB prefix (-i, -o) or from
// stdin, also when the field a rule needs comes after 64 KiB of header.
func TestRulesLargeFiles(t *testing.T) {
	body := strings.Repeat("0123456789abcdef\r\n", 20000)                // 360 KB
	pad := strings.Repeat("X-Pad: "+strings.Repeat("p", 90)+"\r\n", 800) // 78 KB of header
	msgs := map[string]string{
		"big-body.eml":   "From: a@example.com\r\nList-Id: the weekly\r\nTo: b@example.org\r\n\r\n" + body,
		"big-header.eml": "From: a@example.com\r\n" + pad + "List-Id: the weekly\r\nTo: b@example.org\r\n\r\n" + body,
		// The To field after the padding makes the recipients disagree.
		"big-mixed.eml": "From: a@example.com\r\nTo: x@eu.example.com\r\n" + pad + "To: y@example.net\r\n\r\n" + body,
	}
	want := map[string]string{
		"big-body.eml":   "X-SES-CONFIGURATION-SET: newsletters\r\n" + msgs["big-body.eml"],
		"big-header.eml": "X-SES-CONFIGURATION-SET: newsletters\r\n" + msgs["big-header.eml"],
		"big-mixed.eml":  msgs["big-mixed.eml"],
	}
	rulesFile := filepath.Join(sourceDir, "testdata", "rules", "rules.toml")
	for _, mode := range []string{"-i", "-o", "stdout", "stdin"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, msgs)
			t.Chdir(dir)
			for _, name := range slices.Sorted(maps.Keys(msgs)) {
				var code int
				var out, errb string
				switch mode {
				case "-i":
					code, _, errb = runT(t, "", "inject", "--rules", rulesFile, "-i", name)
					out = readFile(t, name)
				case "-o":
					code, _, errb = runT(t, "", "inject", "--rules", rulesFile, "-o", "out", name)
					out = msgs[name]
					if code == 0 {
						out = readFile(t, filepath.Join("out", name))
					}
				case "stdout":
					code, out, errb = runT(t, "", "inject", "--rules", rulesFile, name)
				case "stdin":
					code, out, errb = runT(t, msgs[name], "inject", "--rules", rulesFile)
				}
				if name == "big-mixed.eml" {
					if code != exitFailed || !strings.Contains(errb, "the recipients need different rewrites") {
						t.Errorf("%s: exit %d, stderr %q; want the mixed-recipients error", name, code, errb)
					}
					if mode == "-i" && out != want[name] {
						t.Errorf("%s changed", name)
					}
					continue
				}
				if code != exitOK || out != want[name] {
					t.Errorf("%s: exit %d, stderr %q, output of %d bytes starting %q", name, code, errb, len(out), out[:min(len(out), 80)])
				}
			}
		})
	}
}

// BenchmarkRulesRewrite compares a --rules rewrite of a 10 KB message
// (read the header, decide, rewrite) with the plain rewrite of the same
// options, in memory (Bytes) and streamed (Rewrite).
func BenchmarkRulesRewrite(b *testing.B) {
	msg := []byte("From: a@example.com\r\nTo: x@eu.example.com\r\nX-Campaign: spring\r\nSubject: hi\r\n\r\n" + strings.Repeat("0123456789abcdef\r\n", 560))
	set, err := rules.Load(filepath.Join("testdata", "rules", "rules.toml"))
	if err != nil {
		b.Fatal(err)
	}
	ruled := &ruledRewriter{r: &ruleFlags{file: "rules.toml", set: set, useFrom: true, useRcpt: true}, rw: rules.NewRewriter(nil)}
	irw, err := inject.NewRewriter(&inject.Options{ConfigurationSet: "eu", Tags: []parse.Tag{{Name: "campaign", Value: "spring"}}})
	if err != nil {
		b.Fatal(err)
	}
	plain := plainRewriter{irw}
	for _, rw := range []struct {
		name string
		rewriter
	}{{"plain", plain}, {"rules", ruled.with(new(decided))}} {
		b.Run(rw.name+"/Bytes", func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, _, err := rw.Bytes(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(rw.name+"/Rewrite", func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, err := rw.Rewrite(io.Discard, bytes.NewReader(msg)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
