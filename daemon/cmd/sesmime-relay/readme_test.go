package main

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/sesmime/sesmime/daemon/relay"
)

// readmeBlocks returns the fenced code blocks of daemon/README.md with
// their info strings ("toml", "ini", "" ...).
func readmeBlocks(t *testing.T) (langs, blocks []string) {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var cur []string
	in := false
	for l := range strings.SplitSeq(string(b), "\n") {
		switch {
		case strings.HasPrefix(l, "```") && !in:
			in, cur = true, nil
			langs = append(langs, strings.TrimPrefix(l, "```"))
		case strings.HasPrefix(l, "```"):
			in = false
			blocks = append(blocks, strings.Join(cur, "\n")+"\n")
		case in:
			cur = append(cur, l)
		}
	}
	return langs, blocks
}

// TestReadmeConfig: the README's config file loads, every key it names
// (set, or in a comment as "key = ...") is one relay.LoadConfig knows,
// and every key LoadConfig knows is named there.
func TestReadmeConfig(t *testing.T) {
	langs, blocks := readmeBlocks(t)
	var cfg string
	for i, l := range langs {
		if l == "toml" && strings.Contains(blocks[i], "[[listener]]") {
			cfg = blocks[i]
		}
	}
	if cfg == "" {
		t.Fatal("no config file example in the README")
	}
	path := filepath.Join(t.TempDir(), "relay.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := relay.LoadConfig(path); err != nil {
		t.Errorf("the README's config file: %v", err)
	}
	known := map[string]bool{}
	for _, typ := range []reflect.Type{reflect.TypeFor[relay.Config](), reflect.TypeFor[relay.Listener]()} {
		for f := range typ.Fields() {
			if k := f.Tag.Get("toml"); k != "" {
				known[k] = true
			}
		}
	}
	for _, m := range regexp.MustCompile(`(?m)(?:^|# |, )([a-z][a-z0-9_]*) = `).FindAllStringSubmatch(cfg, -1) {
		if !known[m[1]] {
			t.Errorf("the README's config file names %q, which is no config key", m[1])
		}
	}
	for k := range known {
		if !regexp.MustCompile(`\b` + k + `\b`).MatchString(cfg) {
			t.Errorf("config key %q is not in the README's config file", k)
		}
	}
}

// TestReadmePostfix: main.cf takes a "#" only at the start of a line (after
// a value it is part of the value), so no parameter line of the README's
// main.cf examples has one.
func TestReadmePostfix(t *testing.T) {
	langs, blocks := readmeBlocks(t)
	n := 0
	for i, b := range blocks {
		if langs[i] != "" || !regexp.MustCompile(`(?m)^(relayhost|smtpd_milters) = `).MatchString(b) {
			continue
		}
		n++
		for l := range strings.SplitSeq(b, "\n") {
			if !strings.HasPrefix(l, "#") && strings.Contains(l, "#") {
				t.Errorf("main.cf line with a comment after its value: %q", l)
			}
		}
	}
	if n < 2 {
		t.Errorf("found %d main.cf examples in the README, want 2", n)
	}
}
