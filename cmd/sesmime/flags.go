package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/internal/sesfield"
	"github.com/sesmime/sesmime/parse"
	"github.com/sesmime/sesmime/rules"
)

// config is a parsed command line of inject, strip or check.
type config struct {
	verb      string
	opts      inject.Options
	paths     []string // PATH arguments, "-" for stdin
	inPlace   bool     // -i
	outDir    string   // -o
	recursive bool     // -r
	jobs      int      // -j
	exts      []string // --ext, lower case, with the dot; nil takes every file
	allFiles  bool     // --all-files or --ext '*'
	filesFrom string   // --files-from
	null      bool     // -0: --files-from names end in NUL
	dryRun    bool
	progress  string
	json      bool
	rules     ruleFlags     // inject --rules and the envelope flags
	rw        rewriter      // inject and strip: the run's
	lintOpts  parse.Options // check

	list  *listing // what enumerate counts; made by begin
	spool *spool   // the --files-from names read so far; see openList
}

// plural returns "1 file", "2 files", "1,024 files": n and the noun, with
// an s unless n is 1.
func plural[N int | int64](n N, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return itoa(n) + " " + noun + "s"
}

// itoa formats n with a comma between groups of three digits.
func itoa[N int | int64](n N) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := ""
	if n < 0 {
		neg, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return neg + s
}

// jobsValue is the value of -j: a whole number of workers, 1 or more.
type jobsValue int

func (j *jobsValue) String() string { return strconv.Itoa(int(*j)) }
func (j *jobsValue) Type() string   { return "N" }
func (j *jobsValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return errors.New("want a whole number of workers, 1 or more")
	}
	*j = jobsValue(n)
	return nil
}

// choiceValue is a string flag that takes one of a few words, at least two.
type choiceValue struct {
	v     *string
	words []string
}

func (c choiceValue) String() string { return *c.v }
func (c choiceValue) Type() string   { return strings.Join(c.words, "|") }
func (c choiceValue) Set(s string) error {
	for _, w := range c.words {
		if s == w {
			*c.v = s
			return nil
		}
	}
	last := len(c.words) - 1
	return fmt.Errorf("want %s or %s", strings.Join(c.words[:last], ", "), c.words[last])
}

// listFlags adds the flags that say which files a run reads, shared by
// every verb; what says what the verb does to a file ("process", "check").
func (c *config) listFlags(fs *pflag.FlagSet, exts *[]string, what string) {
	c.jobs = runtime.NumCPU()
	fs.BoolVarP(&c.recursive, "recursive", "r", false, "recurse into directories")
	fs.VarP((*jobsValue)(&c.jobs), "jobs", "j", what+" `N` files at a time (default: the number of CPUs)")
	fs.Lookup("jobs").DefValue = ""
	fs.StringArrayVar(exts, "ext", nil, "with -r, take the files whose name ends in `.EXT` (repeatable; default .eml; '*' takes every file)")
	fs.BoolVar(&c.allFiles, "all-files", false, "with -r, take every regular file (Maildir), as --ext '*'")
	fs.StringVar(&c.filesFrom, "files-from", "", "read more PATHs from `FILE` (- for stdin), one a line, each taken verbatim")
	fs.BoolVarP(&c.null, "null", "0", false, "--files-from names end in a NUL byte, not a newline (find -print0)")
	c.progress = "auto"
	fs.Var(choiceValue{&c.progress, []string{"auto", "always", "never"}}, "progress", "progress bar on stderr: auto (when a terminal), always or never")
}

// fileFlags adds the flags inject and strip share to fs.
func (c *config) fileFlags(fs *pflag.FlagSet, exts *[]string) {
	fs.BoolVarP(&c.inPlace, "in-place", "i", false, "rewrite each file in place, atomically")
	fs.StringVarP(&c.outDir, "output", "o", "", "write the rewritten files under `DIR` (see \"Output directory\")")
	c.listFlags(fs, exts, "process")
	fs.BoolVarP(&c.dryRun, "dry-run", "n", false, "change nothing; print each field that would be added, replaced or removed, old and new value")
	fs.BoolVar(&c.json, "json", false, "write one JSON object per file and a summary object to stdout")
	fs.BoolVar(&c.opts.AllowNoHeader, "allow-no-header", false, "rewrite a message without a header block: the fields, an empty line, then all of it as body")
	fs.BoolVar(&c.opts.AllowBareCR, "allow-bare-cr", false, "take a CR without LF in the header for data, not refuse it")
}

// parseFlags parses args with fs, allowing flags after PATH arguments;
// everything after "--" is a PATH. A long flag written with one dash
// (-config-set, as Go's flag package takes it) gets a pointer to the
// two-dash form, and an unknown flag a "did you mean".
func parseFlags(fs *pflag.FlagSet, args []string) ([]string, error) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if len(name) > 1 && fs.Lookup(name) != nil {
				return nil, fmt.Errorf("unknown flag %s: did you mean --%s?", a, a[1:])
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, flagError(fs, err)
	}
	return fs.Args(), nil
}

// flagError returns err from pflag in sesmime's words, with a suggestion
// for an unknown flag.
func flagError(fs *pflag.FlagSet, err error) error {
	if ne, ok := errors.AsType[*pflag.NotExistError](err); ok && ne.GetSpecifiedShortnames() == "" {
		name := ne.GetSpecifiedName()
		var names []string
		fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
		if s := suggest(name, names); s != "" {
			return fmt.Errorf("unknown flag --%s: did you mean --%s?", name, s)
		}
		return fmt.Errorf("unknown flag --%s", name)
	}
	if ie, ok := errors.AsType[*pflag.InvalidValueError](err); ok {
		why := ie.Unwrap().Error()
		if ne, ok := errors.AsType[*strconv.NumError](ie.Unwrap()); ok && ne.Func == "ParseBool" {
			why = "want true or false"
		}
		return fmt.Errorf("--%s %q: %s", ie.GetFlag().Name, ie.GetValue(), why)
	}
	return err
}

// suggest returns the name in names closest to s, or "" when none is
// close: a prefix of s or s of it, or at most a third of its letters off.
func suggest(s string, names []string) string {
	best, bestD := "", len(s)/3+1
	for _, n := range names {
		if len(s) >= 3 && (strings.HasPrefix(n, s) || strings.HasPrefix(s, n)) {
			return n
		}
		if d := editDistance(s, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, with a swap of two
// neighbours counted as one edit.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

const injectUsage = `usage: sesmime inject [--config-set NAME] [--tag NAME=VALUE]... [--header 'NAME: VALUE']...
                      [--tags-mode replace|merge|keep] [--rules FILE [--mail-from ADDR]
                      [--rcpt-to ADDR]... [--auth-user USER] [--client IP] [--listener NAME]]
                      [-i | -o DIR] [-r] [-j N] [--ext .EXT]... [--all-files]
                      [--files-from FILE|- [-0]] [--dry-run] [--progress WHEN] [--json]
                      [PATH|-]...

Inject sets X-SES-CONFIGURATION-SET, X-SES-MESSAGE-TAGS and custom tag
headers in each message. Every other byte of the message is kept. Give one
--tag per tag (--tag a=1 --tag b=2). A custom tag header's name and value
are tokens (A-Z a-z 0-9 _ -, and @ . in the value), as SES takes them.

Rules: --rules FILE decides per message, with the rules file of
sesmime-relay and sesmime-milter (go doc github.com/sesmime/sesmime/rules).
The envelope comes from --mail-from, --rcpt-to, --auth-user, --client and
--listener; without --mail-from the sender is read from the first
Return-Path, else Sender, else From field, and without --rcpt-to the
recipients from every To, Cc and Bcc field. A sender can write anything
there: give the flags when the true envelope matters. A file is one
message: recipients the rules give different rewrites make it fail, as
does a rule's reject. --config-set, --tag, --tags-mode and --header then
replace those keys of the file's [default]; a matching rule still wins.
With --dry-run each file's envelope and decision are printed too; --json
gives each file's "rule" ("default" when none matched), "config_set" and
"tags" (NAME=VALUE), as sesmime-relay logs them.
`

const stripUsage = `usage: sesmime strip [--config-set] [--tags] [--header NAME]... [--all-ses] [--force]
                     [-i | -o DIR] [-r] [-j N] [--ext .EXT]... [--all-files]
                     [--files-from FILE|- [-0]] [--dry-run] [--progress WHEN] [--json]
                     [PATH|-]...

Strip removes X-SES-CONFIGURATION-SET, X-SES-MESSAGE-TAGS, named header
fields or every X-SES-* field from each message. Every other byte of the
message is kept. --header refuses the names inject refuses (From, To,
Subject, Message-ID, MIME fields, ...) unless --force is given.
`

const filesUsage = `
With no PATH, or PATH "-", the message is read from stdin and written to
stdout. One file without -i or -o is written to stdout; more inputs need -i
(rewrite in place) or -o DIR. A file that would not change is not rewritten.
Errors are reported as "sesmime: PATH: line N: reason" and the other files
still run. Exit status: 0 when every file succeeded, 1 when any failed or
nothing matched, 2 on a usage error, 128+N when stopped by signal N.

Output directory: -o DIR writes each file at its path relative to the PATH
argument it was found under: -o out -r mail/ writes mail/a/1.eml to
out/a/1.eml, as cp -r mail/. out and rsync -r mail/ out do; a file named
directly, or listed by --files-from, goes to its path relative to the
current directory, or for an absolute path to DIR/ plus that path
(/srv/m/1.eml to out/srv/m/1.eml). A path that leaves its directory with
".." is refused.

Files: -r takes the files whose name ends in .eml (or each --ext) and
skips dotfiles (names that start with "."; directories such as Maildir++
folders are walked, and so is Maildir's tmp/: use --files-from for finer
choices); --all-files or --ext '*' takes every regular file. A run that
matches no file exits 1 and says how many files it skipped.

Flags:
`

// printUsage prints the help of inject, strip or check.
func printUsage(w io.Writer, verb string) {
	fs, _ := new(config).flagSet(verb)
	fmt.Fprint(w, map[string]string{"inject": injectUsage + filesUsage, "strip": stripUsage + filesUsage, "check": checkUsage}[verb])
	fmt.Fprint(w, fs.FlagUsages()) // a line for each flag
}

// flagSet returns the flag set of verb, writing into c. The returned
// function completes c once fs has parsed.
func (c *config) flagSet(verb string) (*pflag.FlagSet, func() error) {
	c.verb = verb
	fs := pflag.NewFlagSet("sesmime "+verb, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.SortFlags = false
	exts := new([]string)
	var more func() error // checks and completes what the verb's own flags say
	switch verb {
	case "inject":
		var tags, headers []string
		mode := "replace"
		fs.StringVar(&c.opts.ConfigurationSet, "config-set", "", "set X-SES-CONFIGURATION-SET to `NAME`")
		fs.StringArrayVar(&tags, "tag", nil, "set the tag `NAME=VALUE` in X-SES-MESSAGE-TAGS (repeat for each tag)")
		fs.StringArrayVar(&headers, "header", nil, "set the custom tag header `'NAME: VALUE'` (repeatable; tokens only)")
		fs.Var(choiceValue{&mode, []string{"replace", "merge", "keep"}}, "tags-mode", "what to do with existing tags: replace, merge or keep")
		c.addRuleFlags(fs)
		c.fileFlags(fs, exts)
		more = func() error {
			// choiceValue allows only these.
			c.opts.TagsMode = map[string]inject.TagsMode{"replace": inject.Replace, "merge": inject.Merge, "keep": inject.Keep}[mode]
			for _, t := range tags {
				name, value, ok := strings.Cut(t, "=")
				if !ok {
					return fmt.Errorf("--tag %q: want NAME=VALUE", t)
				}
				if strings.Contains(value, ",") && strings.Contains(value, "=") {
					return fmt.Errorf("--tag %q: one tag per --tag; repeat --tag for each (--tag %s --tag ...)", t, strings.SplitN(t, ",", 2)[0])
				}
				c.opts.Tags = append(c.opts.Tags, parse.Tag{Name: name, Value: value})
			}
			for _, h := range headers {
				name, value, ok := strings.Cut(h, ":")
				if !ok {
					return fmt.Errorf("--header %q: want 'NAME: VALUE'", h)
				}
				name = strings.TrimSpace(name)
				switch {
				case strings.EqualFold(name, sesfield.ConfigurationSet):
					return fmt.Errorf("--header %q: use --config-set to set %s", h, sesfield.ConfigurationSet)
				case strings.EqualFold(name, sesfield.Tags):
					return fmt.Errorf("--header %q: use --tag NAME=VALUE (once per tag) to set %s", h, sesfield.Tags)
				}
				c.opts.Headers = append(c.opts.Headers, parse.TagHeader{Name: name, Value: strings.Trim(value, " \t")})
			}
			if c.opts.ConfigurationSet == "" && fs.Changed("config-set") {
				return fmt.Errorf("--config-set: %w", parse.ValidateConfigurationSet(""))
			}
			if err := c.finishRules(fs); err != nil || c.rules.set != nil {
				return err
			}
			if c.opts.ConfigurationSet == "" && len(c.opts.Tags) == 0 && len(c.opts.Headers) == 0 {
				return fmt.Errorf("nothing to inject: give --config-set, --tag, --header or --rules")
			}
			return nil
		}
	case "strip":
		var headers []string
		var force bool
		fs.BoolVar(&c.opts.RemoveConfigurationSet, "config-set", false, "remove X-SES-CONFIGURATION-SET")
		fs.BoolVar(&c.opts.RemoveTags, "tags", false, "remove X-SES-MESSAGE-TAGS")
		fs.StringArrayVar(&headers, "header", nil, "remove the fields named `NAME` (repeatable)")
		fs.BoolVar(&c.opts.RemoveAllSES, "all-ses", false, "remove every X-SES-* field")
		fs.BoolVar(&force, "force", false, "let --header remove a field inject refuses to set (From, Subject, ...)")
		c.fileFlags(fs, exts)
		more = func() error {
			for _, h := range headers {
				if !force && sesfield.Reserved(h) && !hasSESPrefix(h) {
					return fmt.Errorf("--header %q: refusing to remove an address, structural or unique field; add --force to remove it anyway", h)
				}
			}
			c.opts.RemoveHeaders = headers
			o := &c.opts
			if !o.RemoveConfigurationSet && !o.RemoveTags && !o.RemoveAllSES && len(o.RemoveHeaders) == 0 {
				return fmt.Errorf("nothing to strip: give --config-set, --tags, --header or --all-ses")
			}
			return nil
		}
	case "check":
		var headers []string
		api := "smtp"
		fs.Var(choiceValue{&api, []string{"v1", "v2", "smtp"}}, "api", "the SES interface the messages go through, for the size limit: v1, v2 or smtp")
		fs.StringArrayVar(&headers, "header", nil, "check the value of the custom tag header `NAME` (repeatable)")
		c.listFlags(fs, exts, "check")
		fs.BoolVar(&c.json, "json", false, "write one JSON object per finding or unreadable file, and a summary object, to stdout")
		more = func() error {
			// choiceValue allows only these.
			c.lintOpts.API = map[string]parse.API{"smtp": parse.SMTP, "v1": parse.V1, "v2": parse.V2}[api]
			for _, h := range headers {
				if h == "" || strings.ContainsAny(h, ": \t\r\n") {
					return fmt.Errorf("--header %q: want a field NAME", h)
				}
			}
			c.lintOpts.Headers = headers
			return nil
		}
	}
	return fs, func() error {
		if err := c.setExts(*exts); err != nil {
			return err
		}
		return more()
	}
}

// hasSESPrefix reports whether name is an X-SES-* field, which strip
// removes without --force.
func hasSESPrefix(name string) bool {
	return len(name) >= 6 && strings.EqualFold(name[:6], "X-SES-")
}

// setExts sets c.exts from the --ext values: lower case, each with its
// dot; .eml when there are none; nil for every file with --all-files or
// --ext '*'.
func (c *config) setExts(exts []string) error {
	for _, e := range exts {
		if e == "" {
			return fmt.Errorf("empty --ext")
		}
		if e == "*" {
			c.allFiles = true
			continue
		}
		if strings.ContainsAny(e, "*?[/") {
			return fmt.Errorf("--ext %q: want a name ending such as .eml, or '*' for every file", e)
		}
		if !strings.HasPrefix(e, ".") {
			e = "." + e
		}
		c.exts = append(c.exts, strings.ToLower(e))
	}
	if c.allFiles {
		c.exts = nil
	} else if len(c.exts) == 0 {
		c.exts = []string{".eml"}
	}
	return nil
}

// parseConfig parses the command line of verb and checks it, including
// every option value, before any file is touched.
func parseConfig(verb string, args []string) (*config, error) {
	c := new(config)
	fs, finish := c.flagSet(verb)
	paths, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	c.paths = paths
	if err := finish(); err != nil {
		return nil, err
	}
	if verb == "check" {
		return c, c.checkInputs()
	}
	rw, err := inject.NewRewriter(&c.opts)
	if err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	c.rw = plainRewriter{rw}
	if c.rules.set != nil {
		c.rw = &ruledRewriter{r: &c.rules, rw: rules.NewRewriter(&c.opts)}
	}
	return c, nil
}

// checkInputs checks the PATH arguments and the flags that list files,
// which every verb shares.
func (c *config) checkInputs() error {
	if c.null && c.filesFrom == "" {
		return fmt.Errorf("-0 goes with --files-from")
	}
	for _, p := range c.paths {
		if p == "" {
			return fmt.Errorf("empty PATH")
		}
		if p == "-" && (len(c.paths) > 1 || c.filesFrom != "") {
			return fmt.Errorf("stdin (-) must be the only input")
		}
	}
	return nil
}

// check checks the file flags against each other and the PATH arguments:
// output to stdout takes exactly one file, and -o must be able to mirror
// every path.
func (c *config) check() error {
	if err := c.checkInputs(); err != nil {
		return err
	}
	toFile := c.toStdout() && !c.dryRun && !c.stdinMode() // one file to stdout
	switch {
	case c.inPlace && c.outDir != "":
		return fmt.Errorf("-i and -o cannot be used together")
	case c.stdinMode() && c.inPlace:
		return fmt.Errorf("-i needs file PATHs; stdin is written to stdout")
	case c.stdinMode() && c.outDir != "":
		return fmt.Errorf("-o needs file PATHs; stdin is written to stdout")
	case c.json && c.toStdout() && !c.dryRun:
		return fmt.Errorf("--json writes to stdout, where the message goes: add -i, -o DIR or --dry-run")
	case toFile && (len(c.paths) != 1 || c.filesFrom != ""):
		return fmt.Errorf("several inputs need -i (in place) or -o DIR")
	}
	if toFile {
		if fi, err := os.Stat(c.paths[0]); err == nil && fi.IsDir() && c.recursive {
			return fmt.Errorf("%s is a directory: it needs -i (in place) or -o DIR", c.paths[0])
		}
	}
	for _, p := range c.paths {
		if c.outDir == "" {
			break
		}
		fi, err := os.Stat(p)
		isDir := err == nil && fi.IsDir() && c.recursive
		if !isDir && !filepath.IsAbs(p) && !filepath.IsLocal(p) {
			return fmt.Errorf("-o cannot mirror %s, which leaves the current directory; name its directory with -r, or give it as an absolute path", p)
		}
		if isDir && contains(p, c.outDir) {
			return fmt.Errorf("-o %s is inside the input directory %s", c.outDir, p)
		}
	}
	return nil
}

// stdinMode reports whether the message comes from stdin.
func (c *config) stdinMode() bool {
	return c.filesFrom == "" && (len(c.paths) == 0 || len(c.paths) == 1 && c.paths[0] == "-")
}

// toStdout reports whether rewritten messages go to stdout.
func (c *config) toStdout() bool { return !c.inPlace && c.outDir == "" }
