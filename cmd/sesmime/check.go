package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/sesmime/sesmime/parse"
)

const checkUsage = `usage: sesmime check [--api v1|v2|smtp] [--header NAME]... [-r] [-j N] [--ext .eml]...
                     [--files-from FILE|-] [--progress auto|always|never] [--json] [PATH|-]...

Check reports what SES would reject or silently ignore in each message,
without changing it: invalid or duplicated SES fields, fields SES accepts at
most once appearing twice, a message over the API's size limit after base64
(--api v1: 10 MB; v2 and smtp: 40 MB), lines over 998 bytes, bare CR, NUL
and 8-bit bytes in the header, a DKIM signature covering X-SES-* fields,
fields left from receiving the message through SES, and MIME structure
problems. --header names a custom tag header whose value is checked.

Findings go to stdout as "PATH:LINE: SEVERITY: CODE: message" (SEVERITY is
error or warning), sorted by path then
line; --json writes one object per finding instead. A file that cannot be
read is reported on stderr as "sesmime: PATH: reason". With no PATH, or
PATH "-", the message is read from stdin. Exit status: 0 when there is no
error-level finding (warnings are fine), 1 when there is one or a file
could not be read, 2 on a usage error.

Flags:
`

func printCheckUsage(w io.Writer) {
	fmt.Fprint(w, checkUsage)
	fs, _ := new(checkConfig).flagSet()
	fmt.Fprint(w, flagUsages(fs))
}

// checkConfig is a parsed command line of check. Its config holds the
// file flags it shares with inject and strip.
type checkConfig struct {
	config
	opts parse.Options
}

// flagSet returns the flag set of check, writing into cc. The returned
// function completes cc once fs has parsed.
func (cc *checkConfig) flagSet() (*pflag.FlagSet, func() error) {
	c := &cc.config
	c.verb = "check"
	fs := newFlagSet(c.verb)
	var exts, headers []string
	api := "smtp"
	fs.Var(choiceValue{&api, []string{"v1", "v2", "smtp"}}, "api", "the SES interface the messages go through, for the size limit: v1, v2 or smtp")
	fs.StringArrayVar(&headers, "header", nil, "check the value of the custom tag header `NAME` (repeatable)")
	c.listFlags(fs, &exts, "check")
	fs.BoolVar(&c.json, "json", false, "write one JSON object per finding or unreadable file, and a summary object, to stdout")
	return fs, func() error {
		if err := c.setExts(exts); err != nil {
			return err
		}
		a, ok := map[string]parse.API{"smtp": parse.SMTP, "v1": parse.V1, "v2": parse.V2}[strings.ToLower(api)]
		if !ok {
			return usagef(c.verb, "--api %q: want v1, v2 or smtp", api)
		}
		cc.opts.API = a
		for _, h := range headers {
			if h == "" || strings.ContainsAny(h, ": \t\r\n") {
				return usagef(c.verb, "--header %q: want a field NAME", h)
			}
		}
		cc.opts.Headers = headers
		return c.checkInputs()
	}
}

// parseCheck parses the command line of check.
func parseCheck(args []string) (*checkConfig, error) {
	cc := new(checkConfig)
	fs, finish := cc.flagSet()
	paths, err := parseFlags(fs, args)
	if err != nil {
		if errors.Is(err, errHelp) {
			return nil, errHelp
		}
		return nil, &usageError{verb: "check", err: err}
	}
	cc.paths = paths
	if err := finish(); err != nil {
		return nil, err
	}
	return cc, nil
}

// A checked is the result of checking one input.
type checked struct {
	job
	findings []parse.Finding
	err      error
}

// lint checks one input. It reads the file, never writes it.
func (cc *checkConfig) lint(stdin io.Reader, j job) checked {
	o := checked{job: j, err: j.err}
	if j.err != nil || j.note != "" {
		return o
	}
	r := stdin
	if j.path != "-" {
		f, _, err := openInput(j.path, false, false)
		if err != nil {
			o.err = err
			return o
		}
		defer f.Close()
		r = f
	}
	in, err := parse.Lint(r, &cc.opts)
	if err != nil {
		o.err = err
		return o
	}
	o.findings = in.Findings
	return o
}

func runCheck(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cc, err := parseCheck(args)
	if errors.Is(err, errHelp) {
		printCheckUsage(stdout)
		return exitOK
	}
	if err != nil {
		return reportUsage(stderr, "check", err)
	}
	c := &cc.config
	start := now()
	multi := c.multi()
	bar := c.newProgress(stderr, multi)
	c.list = new(listing)
	var count *tally
	if multi {
		count = c.countAhead(ctx, stdin, bar)
	}
	errw := bar.lines(stderr) // lines above the bar
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
	report := func(o checked) {
		name := o.path
		if name == "-" {
			name = "<stdin>"
		}
		bar.add(o.size)
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
		bar.setFiles(st.Files + st.Skipped)
	}
	forEachOrdered(ctx, c, stdin, bar, func(j job) checked { return cc.lint(stdin, j) }, nil, report)
	count.finish()
	bar.finish()
	slices.SortStableFunc(all, func(a, b item) int {
		return cmp.Or(strings.Compare(a.name, b.name), cmp.Compare(a.line, b.line))
	})
	st.Elapsed = now().Sub(start).Seconds()
	st.Stopped = ctx.Err() != nil
	files, failed, skipped, errs := st.Files, st.Failed, st.Skipped, st.Errors
	if c.json {
		out := newJSONOut(stdout)
		for _, it := range all {
			out.write(it.rec)
		}
		out.write(checkSummaryRecord{&st})
	} else {
		for _, it := range all {
			r := it.rec.(findingRecord)
			fmt.Fprintf(stdout, "%s:%d: %s: %s: %s\n", shown(it.name), r.Line, r.Severity, r.Code, r.Message)
		}
	}
	switch {
	case c.json: // the summary object is printed
	case multi && files == 0 && ctx.Err() == nil:
		if sk := c.list.skipped(c.exts, skipped); sk != "" {
			fmt.Fprintf(stderr, "sesmime: 0 files (%s)\n", sk)
		} else {
			fmt.Fprintf(stderr, "sesmime: 0 files\n")
		}
	case multi:
		fmt.Fprintf(stderr, "sesmime: %s checked: %s, %s in %s; %s failed", plural(files, "file"), plural(st.Errors, "error"), plural(st.Warnings, "warning"), plural(st.WithFindings, "file"), itoa(failed))
		fmt.Fprintf(stderr, " in %v", now().Sub(start).Round(time.Millisecond))
		if sk := c.list.skipped(c.exts, skipped); sk != "" {
			fmt.Fprintf(stderr, " (%s)", sk)
		}
		fmt.Fprintln(stderr)
	}
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "sesmime: %s\n", stopSummary(ctx, files+skipped, count))
		return exitCode(ctx)
	}
	if failed > 0 || errs > 0 || multi && files == 0 {
		return exitFailed
	}
	return exitOK
}
