package sesmime_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sesmime/sesmime"
	"github.com/sesmime/sesmime/internal/headerblock"
)

// rowInputs are the generated inputs of TestRowsGolden, too big for
// testdata; the others are testdata/rows/NAME.eml.
var rowInputs = map[string]func() []byte{
	// Exactly the default limits (20,000 fields, 1 MiB): sesmime must accept
	// its own output.
	"limit-20000-fields": func() []byte {
		var b bytes.Buffer
		for i := range 20000 {
			fmt.Fprintf(&b, "X-F%d: v\r\n", i)
		}
		b.WriteString("\r\nbody\r\n")
		return b.Bytes()
	},
	"limit-1mib-header": func() []byte {
		var b bytes.Buffer
		line := "X-Pad: " + strings.Repeat("p", 900) + "\r\n"
		for b.Len()+len(line) <= 1<<20 {
			b.WriteString(line)
		}
		pad := 1<<20 - b.Len() - len("X-P: \r\n")
		b.WriteString("X-P: " + strings.Repeat("q", pad) + "\r\n")
		b.WriteString("\r\nbody\r\n")
		return b.Bytes()
	},
}

// TestRowsGolden runs each malformed input of issue 14's table through
// inject (the usual options, then allowing what can be allowed), strip
// --all-ses and check, and compares a report with testdata/rows/NAME.golden.
// Whatever is refused by default, check reports as an error in the same
// words; whatever is written, sesmime reads back and leaves unchanged.
func TestRowsGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/rows/*.eml")
	inputs := map[string]func() []byte{}
	for _, f := range files {
		inputs[strings.TrimSuffix(filepath.Base(f), ".eml")] = func() []byte { return readFile(t, f) }
	}
	for name, gen := range rowInputs {
		inputs[name] = gen
	}
	allow := with(func(o *sesmime.Options) { o.AllowNoHeader, o.AllowBareCR = true, true })
	strip := sesmime.Options{RemoveAllSES: true}
	for name, gen := range inputs {
		t.Run(name, func(t *testing.T) {
			in := gen()
			var b strings.Builder
			lint, lerr := sesmime.Lint(bytes.NewReader(in), &sesmime.InspectOptions{Headers: []string{"X-Campaign"}})
			run := func(what string, opts sesmime.Options) error {
				out, err := sesmime.RewriteBytes(in, &opts)
				if err != nil {
					fmt.Fprintf(&b, "%s: error: %v\n", what, err)
					return err
				}
				fmt.Fprintf(&b, "%s: ok: %s\n", what, quote(out))
				again, err := sesmime.RewriteBytes(out, &opts)
				if err != nil || !bytes.Equal(again, out) {
					t.Errorf("%s: a second run gives %v, changed %v", what, err, !bytes.Equal(again, out))
				}
				if _, err := sesmime.Lint(bytes.NewReader(out), &sesmime.InspectOptions{Headers: []string{"X-Campaign"}}); err != nil {
					t.Errorf("%s: check refuses the output: %v", what, err)
				}
				return nil
			}
			for _, r := range []struct {
				what string
				opts sesmime.Options
			}{{"inject", std}, {"strip --all-ses", strip}} {
				err := run(r.what, r.opts)
				if err == nil {
					continue
				}
				// check says the same, as an error.
				if a, ok := errors.AsType[*headerblock.AmbiguityError](err); ok {
					found := false
					if lerr == nil {
						for _, f := range lint.Findings {
							found = found || f.Line == a.Line && f.Error && f.Message == a.Reason()
						}
					}
					if !found {
						t.Errorf("%s refuses with %q, but check does not report it as an error at line %d", r.what, err, a.Line)
					}
				} else if r.what == "inject" && (lerr == nil || lerr.Error() != err.Error()) {
					t.Errorf("inject refuses with %v, check with %v", err, lerr)
				}
				if r.what == "inject" && (errors.Is(err, headerblock.ErrNoHeader) || errors.Is(err, headerblock.ErrBareCR)) {
					run("inject --allow-no-header --allow-bare-cr", allow)
				}
			}
			if lerr != nil {
				fmt.Fprintf(&b, "check: error: %v\n", lerr)
			} else {
				for _, f := range lint.Findings {
					fmt.Fprintf(&b, "check: %d: %s: %s: %s\n", f.Line, severity(f), f.Code, f.Message)
				}
			}
			golden := "testdata/rows/" + name + ".golden"
			if *update {
				writeFile(t, golden, []byte(b.String()))
			}
			if diff := cmp.Diff(string(readFile(t, golden)), b.String()); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
			}
		})
	}
}

// quote returns b quoted, cut in the middle when long.
func quote(b []byte) string {
	if len(b) <= 600 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q ... %q (%d bytes)", b[:300], b[len(b)-100:], len(b))
}

// severity returns "error" or "warning", as check prints it.
func severity(f sesmime.Finding) string {
	if f.Error {
		return "error"
	}
	return "warning"
}
