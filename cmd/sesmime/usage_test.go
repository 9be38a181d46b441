package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestUsageNamesEveryFlag: each verb's usage line names every flag the
// verb takes but the --allow-* escape hatches, which only the flag list
// offers.
func TestUsageNamesEveryFlag(t *testing.T) {
	for _, verb := range []string{"inject", "strip", "check"} {
		var b strings.Builder
		printUsage(&b, verb)
		synopsis, _, _ := strings.Cut(b.String(), "\n\n")
		fs, _ := new(config).flagSet(verb)
		fs.VisitAll(func(f *pflag.Flag) {
			if strings.HasPrefix(f.Name, "allow-") {
				return
			}
			if !strings.Contains(synopsis, "--"+f.Name+" ") && !strings.Contains(synopsis, "--"+f.Name+"]") &&
				(f.Shorthand == "" || !strings.Contains(synopsis, "-"+f.Shorthand+" ") && !strings.Contains(synopsis, "-"+f.Shorthand+"]")) {
				t.Errorf("%s: usage line lacks --%s:\n%s", verb, f.Name, synopsis)
			}
		})
	}
}
