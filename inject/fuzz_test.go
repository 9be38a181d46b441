package inject_test

import (
	"bytes"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/internal/testmsg"
	"github.com/sesmime/sesmime/parse"
)

func addSeeds(f *testing.F) {
	for _, tc := range rewriteTests {
		f.Add([]byte(tc.in))
	}
	f.Add(genMessage(3000))
	testmsg.AddCorpusSeeds(f, 1, 32<<10)
}

const campaign = "X-Campaign"

func fuzzOptions(mode inject.TagsMode) *inject.Options {
	return &inject.Options{
		ConfigurationSet: "fuzz-set",
		Tags:             tags("campaign", "spring", "variant", "b"),
		TagsMode:         mode,
		Headers:          []parse.TagHeader{{Name: campaign, Value: "spring.2026"}},
		Limits:           headerblock.Limits{MaxHeaderBytes: -1, MaxLineBytes: -1, MaxFields: -1},
	}
}

// mergeModel returns the tags Merge should write for the tags fields in,
// or ok=false when one of them cannot be merged.
func mergeModel(in []string, add []parse.Tag) (_ []parse.Tag, ok bool) {
	var list []parse.Tag
	for _, f := range in {
		ts, err := parse.ParseTags(unfold(f))
		if err != nil {
			return nil, false
		}
		for _, t := range ts {
			if !tokenRE.MatchString(t.Name) && t.Name != "ses:feedback-id-a" && t.Name != "ses:feedback-id-b" ||
				!tokenRE.MatchString(t.Value) || len(t.Name) > 256 || len(t.Value) > 256 {
				return nil, false
			}
			if !slices.ContainsFunc(list, func(u parse.Tag) bool { return u.Name == t.Name }) {
				list = append(list, t)
			}
		}
	}
	for _, t := range add {
		if i := slices.IndexFunc(list, func(u parse.Tag) bool { return u.Name == t.Name }); i >= 0 {
			list[i].Value = t.Value
		} else {
			list = append(list, t)
		}
	}
	return list, true
}

var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// checkWritten checks a field the rewriter wrote: printable ASCII, folded
// only with eol + SP/HTAB, lines of at most 998 bytes.
func checkWritten(t *testing.T, f, eol string) {
	t.Helper()
	if !strings.HasSuffix(f, eol) {
		t.Fatalf("written field %q does not end in %q", f, eol)
	}
	for i, l := range strings.Split(strings.TrimSuffix(f, eol), eol) {
		if len(l) > 998 {
			t.Fatalf("written field %q has a %d-byte line", f, len(l))
		}
		if i > 0 && (l == "" || !isWSP(l[0])) {
			t.Fatalf("written field %q has a line that is not a continuation", f)
		}
		for j := 0; j < len(l); j++ {
			if c := l[j]; (c < ' ' || c > '~') && c != '\t' {
				t.Fatalf("written field %q has byte %#x", f, c)
			}
		}
	}
}

func FuzzRewrite(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, run := range []struct {
			mode  inject.TagsMode
			allow bool
		}{{inject.Replace, false}, {inject.Merge, false}, {inject.Keep, false}, {inject.Replace, true}} {
			mode := run.mode
			opts := fuzzOptions(mode)
			opts.AllowNoHeader, opts.AllowBareCR = run.allow, run.allow
			refuse := refusals(msg, opts)
			rw, err := inject.NewRewriter(opts)
			if err != nil {
				t.Fatal(err)
			}
			in := split(msg)
			inTags, _ := named(in.fields, tg)
			merged, mergeOK := mergeModel(inTags, opts.Tags)
			out, res, err := rw.Bytes(msg)
			if len(refuse) > 0 {
				if !slices.ContainsFunc(refuse, func(e error) bool { return errors.Is(err, e) }) {
					t.Fatalf("%v: Rewrite(%q) = %v, want one of %v", mode, msg, err, refuse)
				}
				continue
			}
			if err != nil {
				switch {
				case len(msg) == 0 && errors.Is(err, headerblock.ErrEmpty):
				case mode == inject.Merge && inMessage(err) && !mergeOK:
				default:
					t.Fatalf("%v: Rewrite(%q): %v", mode, msg, err)
				}
				continue
			}
			if mode == inject.Merge && len(inTags) > 0 && !mergeOK {
				t.Fatalf("Merge accepted tags fields %q that the model refuses", inTags)
			}
			if res.Written != int64(len(out)) || res.Changed == bytes.Equal(out, msg) {
				t.Fatalf("Result %+v for %d bytes out (changed: %v)", res, len(out), !bytes.Equal(out, msg))
			}
			o := split(out)

			// The From line, stray lead lines and the body are as they were.
			if o.from != in.from && (eolOf(in.from) != "" || o.from != in.from+in.eol) {
				t.Fatalf("From line %q became %q", in.from, o.from)
			}
			if o.lead != in.lead && (eolOf(in.lead) != "" || o.lead != in.lead+in.eol) {
				t.Fatalf("lead %q became %q", in.lead, o.lead)
			}
			wantBody := in.body
			if in.noHdr {
				wantBody = in.eol + in.body
			}
			if o.body != wantBody {
				t.Fatalf("body %q became %q\nin:  %q\nout: %q", wantBody, o.body, msg, out)
			}

			// Untouched fields keep their bytes and order.
			_, inOther := named(in.fields, cs, tg, campaign)
			outTags, _ := named(o.fields, tg)
			outCS, _ := named(o.fields, cs)
			outCamp, outOther := named(o.fields, cs, tg, campaign)
			outCamp, _ = named(outCamp, campaign)
			if !slices.Equal(inOther, outOther) {
				t.Fatalf("untouched fields changed (-in +out):\n%s", cmp.Diff(inOther, outOther))
			}

			// Exactly one of each requested field, written cleanly.
			if len(outCS) != 1 || len(outCamp) != 1 {
				t.Fatalf("%d configuration set and %d %s fields in %q", len(outCS), len(outCamp), campaign, out)
			}
			checkWritten(t, outCS[0], in.eol)
			checkWritten(t, outCamp[0], in.eol)
			wantTags := opts.Tags
			switch {
			case mode == inject.Keep && len(inTags) > 0:
				if !slices.Equal(inTags, outTags) {
					t.Fatalf("Keep changed the tags fields %q to %q", inTags, outTags)
				}
			case mode == inject.Merge && len(inTags) > 0:
				wantTags = merged
				fallthrough
			default:
				if len(outTags) != 1 {
					t.Fatalf("%d tags fields in %q", len(outTags), out)
				}
				checkWritten(t, outTags[0], in.eol)
			}

			// parse reads back the requested values.
			info, err := parse.Inspect(bytes.NewReader(out), &parse.Options{Headers: []string{campaign}, Limits: opts.Limits})
			if err != nil {
				t.Fatalf("parse.Inspect of the output: %v", err)
			}
			if info.ConfigurationSet != opts.ConfigurationSet {
				t.Fatalf("configuration set read back %q", info.ConfigurationSet)
			}
			if diff := cmp.Diff(opts.Headers, info.Headers); diff != "" {
				t.Fatalf("headers read back (-want +got):\n%s", diff)
			}
			if !(mode == inject.Keep && len(inTags) > 0) {
				if diff := cmp.Diff(wantTags, info.Tags); diff != "" {
					t.Fatalf("%v: tags read back (-want +got):\n%s", mode, diff)
				}
			}

			// A second rewrite changes nothing.
			again, res2, err := rw.Bytes(out)
			if err != nil || !bytes.Equal(again, out) || res2.Changed || len(res2.Changes) != 0 {
				t.Fatalf("%v: second rewrite of %q gave %q, %+v, %v", mode, out, again, res2, err)
			}
		}
	})
}

// refusals returns what Rewrite must refuse msg for with opts, by a model
// of the rules written apart from mimeheaders: no header block, a CR not
// followed by LF before the first empty line, a managed field after the
// block ended early, a second mbox message.
// inMessage reports whether err is a *parse.ValueError about a value in
// the message.
func inMessage(err error) bool {
	ve, ok := errors.AsType[*parse.ValueError](err)
	return ok && ve.Line > 0
}

func refusals(msg []byte, opts *inject.Options) []error {
	m := split(msg)
	var errs []error
	if m.noHdr && !opts.AllowNoHeader {
		errs = append(errs, headerblock.ErrNoHeader)
	}
	header := m.from + m.lead + strings.Join(m.fields, "")
	var late []string // the lines from an early end to the first empty line
	if !m.noHdr {
		for _, l := range strings.SplitAfter(m.body, "\n") {
			if l == "\n" || l == "\r\n" || l == "" {
				break
			}
			late = append(late, l)
		}
	}
	header += strings.Join(late, "")
	if !opts.AllowBareCR && strings.Contains(strings.ReplaceAll(header, "\r\n", ""), "\r") {
		errs = append(errs, headerblock.ErrBareCR)
	}
	for _, raw := range late {
		// A line that starts with SP or HTAB continues the line before it,
		// for a lenient parser too; after a BOM, blanks are skipped.
		l := strings.TrimLeft(strings.TrimPrefix(raw, "\ufeff"), " \t")
		name, _, ok := strings.Cut(l, ":")
		name = strings.TrimRight(name, " \t")
		if ok && name != "" && !isWSP(raw[0]) && (len(name) >= 6 && strings.EqualFold(name[:6], "X-SES-") || strings.EqualFold(name, campaign)) {
			errs = append(errs, headerblock.ErrLateField)
			break
		}
	}
	if m.from != "" && (strings.Contains(m.body, "\n\nFrom ") || strings.Contains(m.body, "\n\r\nFrom ") ||
		strings.HasPrefix(m.body, "\nFrom ") || strings.HasPrefix(m.body, "\r\nFrom ") ||
		// Without a header block the rewrite puts an empty line before the
		// lines after the From line: one more "From " there is a second message.
		m.noHdr && strings.HasPrefix(m.lead+m.body, "From ")) {
		errs = append(errs, headerblock.ErrMbox)
	}
	return errs
}

// A fixed message for FuzzOptions: CRLF, existing SES fields.
const optionsMsg = "From: a@example.com\r\nX-SES-CONFIGURATION-SET: old\r\nX-SES-MESSAGE-TAGS: a=1\r\n" +
	"X-SES-FROM-ARN: arn\r\nX-Old: 1\r\nSubject: hi\r\n\r\nX-SES-CONFIGURATION-SET: decoy\r\n"

var (
	csRE    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	tagRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	hdrRE   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	hdrValR = regexp.MustCompile(`^[A-Za-z0-9_@.-]+$`)
	rmRE    = regexp.MustCompile(`^[!-9;-~]+$`) // bytes 33..126 except ':'
)

func FuzzOptions(f *testing.F) {
	f.Add("news", "campaign", "spring", "X-Campaign", "spring.2026", "", uint8(0), false)
	f.Add("", "ses:feedback-id-a", "x", "", "", "X-Old", uint8(1), true)
	f.Add("a b", "a\r\nb", "c", "X-C", "a\nBcc: x", "", uint8(2), false)
	f.Add("caf\xc3\xa9", "a", "\x00", "From", "v", "X:Y", uint8(3), false)
	f.Add(strings.Repeat("a", 65), "aws:x", "1.2", "X-SES-TENANT", "t", " ", uint8(0), true)
	f.Add("x", "a", "1", "X-C", strings.Repeat("v", 994), "x-c", uint8(2), false)
	f.Fuzz(func(t *testing.T, set, tagName, tagValue, hdrName, hdrValue, remove string, mode uint8, removeAll bool) {
		opts := &inject.Options{ConfigurationSet: set, TagsMode: inject.TagsMode(mode % 4), RemoveAllSES: removeAll}
		if tagName != "" || tagValue != "" {
			opts.Tags = []parse.Tag{{Name: tagName, Value: tagValue}}
		}
		if hdrName != "" || hdrValue != "" {
			opts.Headers = []parse.TagHeader{{Name: hdrName, Value: hdrValue}}
		}
		if remove != "" {
			opts.RemoveHeaders = []string{remove}
		}
		// What the rules in ../shared/SES.md allow, checked without package parse.
		valid := (set == "" || csRE.MatchString(set)) &&
			(opts.Tags == nil || (tagRE.MatchString(tagName) || tagName == "ses:feedback-id-a" || tagName == "ses:feedback-id-b") && tagRE.MatchString(tagValue)) &&
			(opts.Headers == nil || hdrRE.MatchString(hdrName) && hdrValR.MatchString(hdrValue) && len(hdrName)+2+len(hdrValue) <= 998) &&
			(remove == "" || rmRE.MatchString(remove)) &&
			mode%4 < 3

		_, verr := inject.NewRewriter(opts)
		if !valid && verr == nil {
			t.Fatalf("NewRewriter accepted %+v", opts)
		}
		var out bytes.Buffer
		res, err := rewrite(&out, strings.NewReader(optionsMsg), opts)
		if verr != nil {
			if err == nil || err.Error() != verr.Error() || out.Len() != 0 || res != 0 {
				t.Fatalf("NewRewriter = %v, but Rewrite = %d, %v and wrote %q", verr, res, err, out.Bytes())
			}
			return
		}
		if err != nil {
			t.Fatalf("Rewrite(%+v): %v", opts, err)
		}
		in, o := split([]byte(optionsMsg)), split(out.Bytes())
		if o.body != in.body || o.from != "" || o.lead != "" {
			t.Fatalf("output %q: body, From or lead changed", out.Bytes())
		}
		// Every field not in the input was written by the rewriter: no CR,
		// LF (but CRLF endings and folds), NUL or non-ASCII in it.
		for _, fld := range o.fields {
			if !slices.Contains(in.fields, fld) {
				checkWritten(t, fld, "\r\n")
			}
		}
		info, err := parse.Inspect(bytes.NewReader(out.Bytes()), nil)
		if err != nil {
			t.Fatal(err)
		}
		if set != "" && info.ConfigurationSet != set {
			t.Fatalf("configuration set read back %q, want %q", info.ConfigurationSet, set)
		}
		if opts.Headers != nil {
			hs, _ := named(o.fields, hdrName)
			if len(hs) != 1 || unfold(hs[0]) != hdrValue {
				t.Fatalf("header %q: fields %q", hdrName, hs)
			}
		}
	})
}
