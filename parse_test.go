package sesmime_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sesmime/sesmime/parse"
)

// TestParseGolden reads every testdata/NAME.eml with parse and compares a
// plain-text report with testdata/NAME.parse.golden.
func TestParseGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".eml")
		t.Run(name, func(t *testing.T) {
			info, err := parse.Inspect(bytes.NewReader(readFile(t, file)), &parse.Options{Headers: []string{"X-Campaign"}})
			var b strings.Builder
			if err != nil {
				fmt.Fprintf(&b, "error: %v\n", err)
			} else {
				fmt.Fprintf(&b, "configuration set: %q\n", info.ConfigurationSet)
				for _, tg := range info.Tags {
					fmt.Fprintf(&b, "tag: %q = %q\n", tg.Name, tg.Value)
				}
				for _, h := range info.Headers {
					fmt.Fprintf(&b, "header: %q = %q\n", h.Name, h.Value)
				}
				for _, f := range info.Findings {
					fmt.Fprintf(&b, "finding: %v\n", f)
				}
			}
			golden := "testdata/" + name + ".parse.golden"
			if *update {
				writeFile(t, golden, []byte(b.String()))
			}
			if diff := cmp.Diff(string(readFile(t, golden)), b.String()); diff != "" {
				t.Errorf("parse(%s) mismatch (-want +got):\n%s", name, diff)
			}
		})
	}
}

// TestEveryInputHasACase keeps testdata honest: every NAME.eml is an inject
// golden case, or a parse-only case named parse-*.
func TestEveryInputHasACase(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.eml")
	cases := map[string]bool{}
	for _, tc := range goldenCases {
		cases[tc.name] = true
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".eml")
		if !cases[name] && !strings.HasPrefix(name, "parse-") {
			t.Errorf("testdata/%s.eml has no golden case", name)
		}
	}
	if len(goldenCases) < 30 {
		t.Errorf("only %d inject golden cases", len(goldenCases))
	}
}
