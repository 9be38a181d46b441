package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/sesmime/sesmime/parse"
)

const checkUsage = `usage: sesmime check [--api v1|v2|smtp] [--header NAME]... [-r] [-j N]
                     [--ext .EXT]... [--all-files] [--files-from FILE|- [-0]]
                     [--progress auto|always|never] [--json] [PATH|-]...

Check reports what SES would reject or silently ignore in each message,
without changing it: invalid or duplicated SES fields, fields SES accepts at
most once appearing twice, a message over the API's size limit after base64
(--api v1: 10 MB; v2 and smtp: 40 MB), lines over 998 bytes, bare CR, NUL
and 8-bit bytes in the header, a DKIM signature covering X-SES-* fields,
fields left from receiving the message through SES, and MIME structure
problems. --header names a custom tag header whose value is checked.

Findings go to stdout as "PATH:LINE: SEVERITY: CODE: message" (SEVERITY is
error or warning), sorted by path then line; --json writes one object per
finding instead. A file that cannot be
read is reported on stderr as "sesmime: PATH: reason". With no PATH, or
PATH "-", the message is read from stdin. Exit status: 0 when there is no
error-level finding (warnings are fine), 1 when there is one or a file
could not be read, 2 on a usage error, 128+N when stopped by signal N (the
findings so far are printed).

Flags:
`

// lint checks the input of j. It reads the file, never writes it; like
// -i and -o it takes regular files only, so a named pipe cannot block the
// run.
func (p *processor) lint(j job) ([]parse.Finding, error) {
	r := p.stdin
	if j.path != "-" {
		f, _, err := openInput(j.path, true, j.regular)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	in, err := parse.Lint(r, &p.c.lintOpts)
	if err != nil {
		return nil, err
	}
	return in.Findings, nil
}

// runCheck runs check over the inputs of c.
func (c *config) runCheck(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) int {
	s := c.begin(stdin, stderr)
	errw := s.bar.Lines(stderr) // lines above the bar
	// An item is a finding, or with --json a file that failed or was
	// skipped; they are printed sorted by path, then line.
	type item struct {
		name string
		line int
		rec  any
	}
	var (
		all []item
		st  checkStats
	)
	report := func(o outcome) {
		name := o.path
		if name == "-" {
			name = "<stdin>"
		}
		s.bar.Add(o.size)
		switch {
		case o.note != "":
			st.Skipped++
			if c.json {
				all = append(all, item{name, 0, checkFileRecord{filePath: pathOf(name), Skipped: o.note}})
			} else {
				fmt.Fprintf(errw, "sesmime: %s: skipped: %s\n", shown(o.path), o.note)
			}
		case o.err != nil:
			st.Files++
			st.Failed++
			if c.json {
				all = append(all, item{name, 0, checkFileRecord{filePath: pathOf(name), errorFields: errorOf(o.path, o.err)}})
			} else {
				fmt.Fprintf(errw, "sesmime: %s: %s\n", shown(o.path), describe(o.path, o.err))
			}
		default:
			st.Files++
			if len(o.findings) > 0 {
				st.WithFindings++
			}
			for _, f := range o.findings {
				sev := "warning"
				if f.Error {
					sev = "error"
					st.Errors++
				} else {
					st.Warnings++
				}
				all = append(all, item{name, f.Line, findingRecord{filePath: pathOf(name), Line: f.Line, Code: f.Code, Severity: sev, Message: f.Message}})
			}
		}
		s.bar.SetFiles(st.Files + st.Skipped)
	}
	p := &processor{ctx: ctx, c: c, stdin: stdin}
	forEachOrdered(ctx, s, p.process, nil, report)
	st.Elapsed, st.Stopped = s.finish(ctx)
	slices.SortStableFunc(all, func(a, b item) int {
		return cmp.Or(strings.Compare(a.name, b.name), cmp.Compare(a.line, b.line))
	})
	if c.json {
		out := newJSONOut(stdout)
		for _, it := range all {
			out.Encode(it.rec)
		}
		out.Encode(summaryRecord{&st})
	} else {
		for _, it := range all {
			r := it.rec.(findingRecord)
			fmt.Fprintf(stdout, "%s:%d: %s: %s: %s\n", shown(it.name), r.Line, r.Severity, r.Code, r.Message)
		}
	}
	summary := fmt.Sprintf("%s checked: %s, %s in %s; %s failed", plural(st.Files, "file"), plural(st.Errors, "error"), plural(st.Warnings, "warning"), plural(st.WithFindings, "file"), itoa(st.Failed))
	return s.end(ctx, stderr, st.Files, st.Skipped, summary, st.Failed > 0 || st.Errors > 0)
}
