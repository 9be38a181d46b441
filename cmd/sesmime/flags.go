package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"

	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/parse"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// config is a parsed command line of inject or strip.
type config struct {
	verb      string
	opts      inject.Options
	paths     []string // PATH arguments, "-" for stdin
	inPlace   bool     // -i
	outDir    string   // -o
	recursive bool     // -r
	jobs      int      // -j
	exts      []string // --ext, lower case, with the dot
	filesFrom string   // --files-from
	dryRun    bool
	progress  string // auto, always or never
	json      bool
}

// fileFlags adds the flags inject and strip share to fs.
func (c *config) fileFlags(fs *flag.FlagSet, exts *listFlag) {
	fs.BoolVar(&c.inPlace, "i", false, "rewrite each file in place, atomically")
	fs.StringVar(&c.outDir, "o", "", "write the rewritten files under `DIR`, mirroring their paths")
	fs.BoolVar(&c.recursive, "r", false, "recurse into directories")
	fs.IntVar(&c.jobs, "j", runtime.NumCPU(), "process `N` files at a time")
	fs.Var(exts, "ext", "with -r, take files whose name ends in `.EXT` (repeatable; default .eml)")
	fs.StringVar(&c.filesFrom, "files-from", "", "read more paths from `FILE` (- for stdin), one per line")
	fs.BoolVar(&c.dryRun, "dry-run", false, "change nothing; print which fields would be added, replaced or removed")
	fs.StringVar(&c.progress, "progress", "auto", "progress bar on stderr: `auto` (when a terminal), always or never")
	fs.BoolVar(&c.json, "json", false, "write one JSON object per file and a summary object to stdout")
}

func newFlagSet(verb string) *flag.FlagSet {
	fs := flag.NewFlagSet("sesmime "+verb, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseInterleaved parses args with fs, allowing flags after PATH
// arguments; everything after "--" is a PATH.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var paths []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return paths, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(paths, rest...), nil
		}
		paths = append(paths, rest[0])
		args = rest[1:]
	}
}

const injectUsage = `usage: sesmime inject [--config-set NAME] [--tag NAME=VALUE]... [--header 'NAME: VALUE']...
                      [--tags-mode replace|merge|keep] [-i | -o DIR] [-r] [-j N] [--ext .eml]...
                      [--files-from FILE|-] [--dry-run] [--progress auto|always|never] [--json]
                      [PATH|-]...

Inject sets X-SES-CONFIGURATION-SET, X-SES-MESSAGE-TAGS and custom tag
headers in each message. Every other byte of the message is kept.
`

const stripUsage = `usage: sesmime strip [--config-set] [--tags] [--header NAME]... [--all-ses]
                     [-i | -o DIR] [-r] [-j N] [--ext .eml]... [--files-from FILE|-]
                     [--dry-run] [--progress auto|always|never] [--json] [PATH|-]...

Strip removes X-SES-CONFIGURATION-SET, X-SES-MESSAGE-TAGS, named header
fields or every X-SES-* field from each message. Every other byte of the
message is kept.
`

const filesUsage = `
With no PATH, or PATH "-", the message is read from stdin and written to
stdout. One file without -i or -o is written to stdout; more inputs need -i
(rewrite in place) or -o DIR. A file that would not change is not rewritten.
Errors are reported as "sesmime: PATH: line N: reason" and the other files
still run. Exit status: 0 when every file succeeded, 1 when any failed, 2 on
a usage error, 128+N when stopped by signal N.

Flags:
`

func printUsage(w io.Writer, verb string) {
	var c config
	fs, _ := c.flagSet(verb)
	if verb == "inject" {
		fmt.Fprint(w, injectUsage)
	} else {
		fmt.Fprint(w, stripUsage)
	}
	fmt.Fprint(w, filesUsage)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// flagSet returns the flag set of verb, writing into c. The returned
// function completes c once fs has parsed.
func (c *config) flagSet(verb string) (*flag.FlagSet, func() error) {
	c.verb = verb
	fs := newFlagSet(verb)
	exts := new(listFlag)
	c.fileFlags(fs, exts)
	finish := func() error { return c.setExts(*exts) }
	switch verb {
	case "inject":
		var tags, headers listFlag
		mode := "replace"
		fs.StringVar(&c.opts.ConfigurationSet, "config-set", "", "set X-SES-CONFIGURATION-SET to `NAME`")
		fs.Var(&tags, "tag", "set the tag `NAME=VALUE` in X-SES-MESSAGE-TAGS (repeatable)")
		fs.Var(&headers, "header", "set the custom tag header `'NAME: VALUE'` (repeatable)")
		fs.StringVar(&mode, "tags-mode", mode, "what to do with existing tags: `replace`, merge or keep")
		f0 := finish
		finish = func() error {
			if err := f0(); err != nil {
				return err
			}
			m, err := inject.ParseTagsMode(mode)
			if err != nil {
				return usagef(verb, "--tags-mode: %v", err)
			}
			c.opts.TagsMode = m
			for _, t := range tags {
				name, value, ok := strings.Cut(t, "=")
				if !ok {
					return usagef(verb, "--tag %q: want NAME=VALUE", t)
				}
				c.opts.Tags = append(c.opts.Tags, parse.Tag{Name: name, Value: value})
			}
			for _, h := range headers {
				name, value, ok := strings.Cut(h, ":")
				if !ok {
					return usagef(verb, "--header %q: want 'NAME: VALUE'", h)
				}
				c.opts.Headers = append(c.opts.Headers, parse.Header{Name: strings.TrimSpace(name), Value: strings.Trim(value, " \t")})
			}
			if c.opts.ConfigurationSet == "" && isFlagSet(fs, "config-set") {
				return &usageError{verb: verb, err: fmt.Errorf("--config-set: %w", parse.ValidateConfigurationSet(""))}
			}
			if c.opts.ConfigurationSet == "" && len(c.opts.Tags) == 0 && len(c.opts.Headers) == 0 {
				return usagef(verb, "nothing to inject: give --config-set, --tag or --header")
			}
			return nil
		}
	case "strip":
		var headers listFlag
		fs.BoolVar(&c.opts.RemoveConfigurationSet, "config-set", false, "remove X-SES-CONFIGURATION-SET")
		fs.BoolVar(&c.opts.RemoveTags, "tags", false, "remove X-SES-MESSAGE-TAGS")
		fs.Var(&headers, "header", "remove the fields named `NAME` (repeatable)")
		fs.BoolVar(&c.opts.RemoveAllSES, "all-ses", false, "remove every X-SES-* field")
		f0 := finish
		finish = func() error {
			if err := f0(); err != nil {
				return err
			}
			c.opts.RemoveHeaders = headers
			o := &c.opts
			if !o.RemoveConfigurationSet && !o.RemoveTags && !o.RemoveAllSES && len(o.RemoveHeaders) == 0 {
				return usagef(verb, "nothing to strip: give --config-set, --tags, --header or --all-ses")
			}
			return nil
		}
	}
	return fs, finish
}

// setExts sets c.exts from the --ext values: lower case, each with its
// dot; .eml when there are none.
func (c *config) setExts(exts []string) error {
	for _, e := range exts {
		if e == "" {
			return usagef(c.verb, "empty --ext")
		}
		if !strings.HasPrefix(e, ".") {
			e = "." + e
		}
		c.exts = append(c.exts, strings.ToLower(e))
	}
	if len(c.exts) == 0 {
		c.exts = []string{".eml"}
	}
	return nil
}

func isFlagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// parseConfig parses the command line of verb and checks it, including
// every option value, before any file is touched.
func parseConfig(verb string, args []string) (*config, error) {
	c := new(config)
	fs, finish := c.flagSet(verb)
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, &usageError{verb: verb, err: err}
	}
	c.paths = paths
	if err := finish(); err != nil {
		return nil, err
	}
	if err := c.opts.Validate(); err != nil {
		return nil, &usageError{verb: verb, err: err}
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// check checks the file flags against each other.
func (c *config) check() error {
	v := c.verb
	switch c.progress {
	case "auto", "always", "never":
	default:
		return usagef(v, "--progress %q: want auto, always or never", c.progress)
	}
	if c.jobs < 1 {
		return usagef(v, "-j %s: want 1 or more workers", strconv.Itoa(c.jobs))
	}
	if c.inPlace && c.outDir != "" {
		return usagef(v, "-i and -o cannot be used together")
	}
	stdinPaths := 0
	for _, p := range c.paths {
		if p == "-" {
			stdinPaths++
		}
		if p == "" {
			return usagef(v, "empty PATH")
		}
	}
	if stdinPaths > 0 {
		if len(c.paths) > 1 || c.filesFrom != "" {
			return usagef(v, "stdin (-) must be the only input")
		}
	}
	if c.stdinMode() {
		if c.inPlace {
			return usagef(v, "-i needs file PATHs; stdin is written to stdout")
		}
		if c.outDir != "" {
			return usagef(v, "-o needs file PATHs; stdin is written to stdout")
		}
	}
	if c.json && c.toStdout() && !c.dryRun {
		return usagef(v, "--json writes to stdout, where the message goes: add -i, -o DIR or --dry-run")
	}
	return nil
}

// stdinMode reports whether the message comes from stdin.
func (c *config) stdinMode() bool {
	return c.filesFrom == "" && (len(c.paths) == 0 || len(c.paths) == 1 && c.paths[0] == "-")
}

// toStdout reports whether rewritten messages go to stdout.
func (c *config) toStdout() bool { return !c.inPlace && c.outDir == "" }

func runInject(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runRewrite(ctx, "inject", args, stdin, stdout, stderr)
}

func runStrip(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runRewrite(ctx, "strip", args, stdin, stdout, stderr)
}
