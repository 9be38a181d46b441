package sesmime_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sesmime/sesmime"
	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/internal/testmsg"
)

// corpusOpts are the options the corpus test rewrites every message with.
var corpusOpts = sesmime.Options{
	ConfigurationSet: "news",
	Tags:             []sesmime.Tag{{Name: "campaign", Value: "spring"}, {Name: "team", Value: "growth"}},
	Headers:          []sesmime.TagHeader{{Name: "X-Campaign-Id", Value: "spring.2026"}},
}

// TestCorpus rewrites every message of the folder named by SESMIME_CORPUS
// and checks the result with a splitter written independently of
// mimeheaders: the body and every untouched field are byte-identical and in
// order, and exactly the requested fields are present.
func TestCorpus(t *testing.T) {
	dir := testmsg.CorpusDir(t, 0)
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.Type().IsRegular() && !strings.HasPrefix(name, ".") && name != "README.md" && name != "SOURCES.md" && name != "MANIFEST.tsv" {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("SESMIME_CORPUS=%s: %v", dir, err)
	}
	if len(files) == 0 {
		t.Fatalf("SESMIME_CORPUS=%s holds no messages", dir)
	}
	passed, refused := 0, 0
	for _, file := range files {
		in, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out, err := sesmime.RewriteBytes(in, &corpusOpts)
		if err != nil {
			// Refusing is allowed only with an exported, positioned error: a
			// malformed header (SyntaxError) or one parsers read differently
			// (AmbiguityError).
			_, syntax := errors.AsType[*headerblock.SyntaxError](err)
			_, ambiguous := errors.AsType[*headerblock.AmbiguityError](err)
			if !syntax && !ambiguous {
				t.Errorf("%s: refused with an untyped error: %v", file, err)
			}
			refused++
			t.Logf("%s: refused: %v", file, err)
			continue
		}
		if problems := checkRewrite(in, out, &corpusOpts); len(problems) > 0 {
			t.Errorf("%s:\n\t%s", file, strings.Join(problems, "\n\t"))
			continue
		}
		again, err := sesmime.RewriteBytes(out, &corpusOpts)
		if err != nil || !bytes.Equal(again, out) {
			t.Errorf("%s: second rewrite changed the output (err %v)", file, err)
			continue
		}
		passed++
	}
	t.Logf("corpus %s: %d messages, %d passed, %d refused", dir, len(files), passed, refused)
}

// An indepSplit is a message cut by the rule in mimeheaders/doc.go, written
// here again without its code.
type indepSplit struct {
	from     string
	units    []string // header units: a start line and its continuation lines
	body     string   // everything after the header block
	noHeader bool
	eol      string
}

var (
	fieldStart = regexp.MustCompile(`^[\x21-\x39\x3b-\x7e]+[ \t]*:`)
	fieldName  = regexp.MustCompile(`^([\x21-\x39\x3b-\x7e]+)[ \t]*:`)
)

func indepCut(msg string) indepSplit {
	var s indepSplit
	lines := strings.SplitAfter(msg, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	i := 0
	if len(lines) > 0 && strings.HasPrefix(lines[0], "From ") {
		s.from = lines[0]
		i = 1
	}
	s.eol = "\r\n"
	switch {
	case i < len(lines) && strings.HasSuffix(lines[i], "\r\n"):
	case i < len(lines) && strings.HasSuffix(lines[i], "\n"):
		s.eol = "\n"
	case s.from != "" && !strings.HasSuffix(s.from, "\r\n") && strings.HasSuffix(s.from, "\n"):
		s.eol = "\n"
	}
	for j := i; j < len(lines); j++ {
		l := lines[j]
		switch {
		case l == "\n" || l == "\r\n":
			s.body = strings.Join(lines[j:], "")
			return s
		case l[0] == ' ' || l[0] == '\t':
			if len(s.units) == 0 || j == i {
				s.units = append(s.units, l)
			} else {
				s.units[len(s.units)-1] += l
			}
		case fieldStart.MatchString(l):
			s.units = append(s.units, l)
		default:
			s.noHeader = j == i
			s.body = strings.Join(lines[j:], "")
			return s
		}
	}
	return s
}

func unitName(u string) string {
	if m := fieldName.FindStringSubmatch(u); m != nil {
		return strings.ToLower(m[1])
	}
	return ""
}

func unitValue(u string) string {
	v := u[strings.IndexByte(u, ':')+1:]
	v = strings.NewReplacer("\r\n", "", "\n", "").Replace(v)
	return strings.Trim(v, " \t")
}

// checkRewrite returns what is wrong with out as a rewrite of in with opts
// (in Replace mode).
func checkRewrite(in, out []byte, opts *sesmime.Options) []string {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, sprintf(format, args...))
	}
	o, p := indepCut(string(in)), indepCut(string(out))
	managed := map[string]bool{}
	if opts.ConfigurationSet != "" {
		managed["x-ses-configuration-set"] = true
	}
	if len(opts.Tags) > 0 {
		managed["x-ses-message-tags"] = true
	}
	for _, h := range opts.Headers {
		managed[strings.ToLower(h.Name)] = true
	}
	if o.from != p.from && o.from+o.eol != p.from {
		bad("From line changed: %q -> %q", o.from, p.from)
	}
	// Body.
	wantBody := o.body
	if o.noHeader {
		wantBody = o.eol + o.body
	}
	if p.body != wantBody {
		bad("body differs: %d bytes, want %d", len(p.body), len(wantBody))
	}
	// Untouched units, in order; the last may have gained a line ending.
	var keep, got []string
	for _, u := range o.units {
		if !managed[unitName(u)] {
			keep = append(keep, u)
		}
	}
	var added []string
	for _, u := range p.units {
		if managed[unitName(u)] {
			added = append(added, u)
		} else {
			got = append(got, u)
		}
	}
	if len(keep) != len(got) {
		bad("%d untouched header units, want %d", len(got), len(keep))
	} else {
		for k := range keep {
			if keep[k] != got[k] && !(k == len(keep)-1 && keep[k]+o.eol == got[k]) {
				bad("header unit %d changed: %q -> %q", k, keep[k], got[k])
			}
		}
	}
	// Requested fields: exactly one each, right value, clean lines.
	count := map[string]int{}
	for _, u := range added {
		name := unitName(u)
		count[name]++
		for _, line := range strings.SplitAfter(u, "\n") {
			if line == "" {
				continue
			}
			if !strings.HasSuffix(line, o.eol) || (o.eol == "\n" && strings.HasSuffix(line, "\r\n")) {
				bad("new line %q does not end in %q", line, o.eol)
			}
			for _, c := range []byte(strings.TrimSuffix(line, o.eol)) {
				if (c < 32 || c > 126) && c != '\t' {
					bad("new line %q has byte %#x", line, c)
				}
			}
		}
		want := ""
		switch name {
		case "x-ses-configuration-set":
			want = opts.ConfigurationSet
		case "x-ses-message-tags":
			var parts []string
			for _, tg := range opts.Tags {
				parts = append(parts, tg.Name+"="+tg.Value)
			}
			want = strings.Join(parts, ", ")
		default:
			for _, h := range opts.Headers {
				if strings.EqualFold(h.Name, name) {
					want = h.Value
				}
			}
		}
		if v := unitValue(u); v != want {
			bad("%s value %q, want %q", name, v, want)
		}
	}
	for name := range managed {
		if count[name] != 1 {
			bad("%d %s fields, want 1", count[name], name)
		}
	}
	return problems
}

// TestCheckRewriteCatches shows that checkRewrite, which the corpus test
// relies on, finds each kind of damage.
func TestCheckRewriteCatches(t *testing.T) {
	in := "From: a@example.com\nSubject: s\n\nbody\n"
	good := "X-SES-CONFIGURATION-SET: news\nX-SES-MESSAGE-TAGS: campaign=spring, team=growth\nX-Campaign-Id: spring.2026\n" + in
	if p := checkRewrite([]byte(in), []byte(good), &corpusOpts); len(p) > 0 {
		t.Fatalf("good rewrite refused: %v", p)
	}
	for name, out := range map[string]string{
		"body changed":     strings.Replace(good, "body", "bodY", 1),
		"field reordered":  strings.Replace(good, "From: a@example.com\nSubject: s\n", "Subject: s\nFrom: a@example.com\n", 1),
		"CRLF in LF":       strings.Replace(good, "news\n", "news\r\n", 1),
		"field missing":    strings.Replace(good, "X-Campaign-Id: spring.2026\n", "", 1),
		"field twice":      "X-SES-CONFIGURATION-SET: news\n" + good,
		"wrong tag value":  strings.Replace(good, "team=growth", "team=grow", 1),
		"field lost":       strings.Replace(good, "Subject: s\n", "", 1),
		"blank line added": strings.Replace(good, "\n\nbody", "\n\n\nbody", 1),
	} {
		if p := checkRewrite([]byte(in), []byte(out), &corpusOpts); len(p) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
}
