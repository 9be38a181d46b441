package sesmime_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sesmime/sesmime"
	"github.com/sesmime/sesmime/inject"
)

// pyOpts are the options of the Python differential test: every managed
// kind of field.
var pyOpts = with(func(o *sesmime.Options) {
	o.Headers = []sesmime.TagHeader{{Name: "X-Campaign", Value: "spring.2026"}}
})

var pyManaged = map[string]string{
	"x-ses-configuration-set": "news",
	"x-ses-message-tags":      "campaign=spring, team=growth",
	"x-campaign":              "spring.2026",
}

// malformed are the lines the Python test puts into messages: the
// constructs of issue 14, where parsers disagree.
var malformed = []string{
	"Subject: x\rX-SES-CONFIGURATION-SET: evil\r\n", "\rX-SES-CONFIGURATION-SET: evil\r\n", "A: 1\r\r\n",
	": weird\r\n", "plain text\r\n", "X-N\xe4me: v\r\n", "X-N\x7fme: v\r\n", "\xef\xbb\xbfSubject: bom\r\n",
	"From b@example.com Tue Mar  3 10:00:00 2026\r\n", strings.Repeat("x", 2000) + "\r\n",
	"Subject : s\r\n", "X-SES-CONFIGURATION-SET : old\r\n", "x-ses-message-tags: a=1\r\n", "X-Campaign: old\r\n",
	" stray continuation\r\n", "\r\n", "X-SES-CONFIGURATION-SET: old\r\n",
}

// TestPythonEmail is a differential test against Python's email package:
// for every input that inject accepts (testdata, the corpus when
// SESMIME_CORPUS is set, and messages with issue 14's malformed lines put
// in), Python, with compat32 and with the default policy, sees exactly one
// of each managed field with the value written, and the same other fields
// as in the input, in order.
func TestPythonEmail(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: the differential test against Python's email package is skipped")
	}
	var inputs [][]byte
	files, _ := filepath.Glob("testdata/*.eml")
	rows, _ := filepath.Glob("testdata/rows/*.eml")
	files = append(files, rows...)
	if dir := os.Getenv("SESMIME_CORPUS"); dir != "" {
		more, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
		files = append(files, more...)
	}
	for _, f := range files {
		inputs = append(inputs, readFile(t, f))
	}
	base := []string{"From: a@example.com\r\n", "Subject: hi\r\n", "X-SES-CONFIGURATION-SET: old\r\n", "X-Campaign: c\r\n", "To: b@example.com\r\n", "\r\n", "body\r\n"}
	rnd := rand.New(rand.NewPCG(14, 14))
	for range 400 {
		lines := slices.Clone(base)
		for range 1 + rnd.IntN(2) {
			at := rnd.IntN(len(lines) - 1)
			lines = slices.Insert(lines, at, malformed[rnd.IntN(len(malformed))])
		}
		inputs = append(inputs, []byte(strings.Join(lines, "")))
	}

	var batch bytes.Buffer
	var pairs [][2][]byte
	strip := sesmime.Options{RemoveConfigurationSet: true, RemoveTags: true, RemoveHeaders: []string{"X-Campaign"}}
	for _, in := range inputs {
		out, err := sesmime.RewriteBytes(in, &pyOpts)
		if err != nil {
			continue
		}
		// The input without its managed fields: what Python reads of it
		// is what Python must read of the output besides them.
		ref, err := sesmime.RewriteBytes(in, &strip)
		if errors.Is(err, inject.ErrNothingLeft) {
			continue
		}
		if err != nil {
			t.Fatalf("inject accepts %q, strip refuses it: %v", in, err)
		}
		pairs = append(pairs, [2][]byte{in, out})
		line, _ := json.Marshal(map[string]string{"out": base64.StdEncoding.EncodeToString(out), "ref": base64.StdEncoding.EncodeToString(ref)})
		batch.Write(append(line, '\n'))
	}
	cmd := exec.Command(py, "testdata/pyemail.py")
	cmd.Stdin = &batch
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 testdata/pyemail.py: %v\n%s", err, stderr.Bytes())
	}
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(nil, 64<<20)
	n := 0
	for ; sc.Scan(); n++ {
		type seen struct {
			Compat32 [][2]string
			Default  [][2]string
		}
		var res struct{ Out, Ref seen }
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		for _, s := range []*seen{&res.Out, &res.Ref} {
			for i, f := range s.Compat32 {
				v, _ := base64.StdEncoding.DecodeString(f[1])
				s.Compat32[i][1] = string(v)
			}
		}
		in, out := pairs[n][0], pairs[n][1]
		checkPython(t, "compat32", in, out, res.Out.Compat32, res.Ref.Compat32)
		if res.Out.Default != nil {
			checkPython(t, "default", in, out, res.Out.Default, nil)
		}
	}
	if n != len(pairs) {
		t.Fatalf("python3 answered %d of %d messages", n, len(pairs))
	}
	t.Logf("%d of %d inputs accepted and compared", len(pairs), len(inputs))
}

// checkPython checks what Python sees in out, the rewrite of in: exactly
// one of each managed field with the value written and, unless ref is nil,
// the other fields Python sees in ref, in without its managed fields (and
// none of those in ref).
func checkPython(t *testing.T, policy string, in, out []byte, py, ref [][2]string) {
	t.Helper()
	split := func(fs [][2]string) (map[string][]string, []string) {
		managed := map[string][]string{}
		var other []string
		for _, f := range fs {
			if _, ok := pyManaged[strings.ToLower(f[0])]; ok {
				managed[strings.ToLower(f[0])] = append(managed[strings.ToLower(f[0])], f[1])
			} else {
				other = append(other, f[0]+": "+f[1])
			}
		}
		return managed, other
	}
	seen, got := split(py)
	for name, want := range pyManaged {
		if len(seen[name]) != 1 || seen[name][0] != want {
			t.Errorf("Python (%s) sees %s = %q, want exactly %q\nin:  %q\nout: %q", policy, name, seen[name], want, in, out)
		}
	}
	if ref == nil {
		return
	}
	left, want := split(ref)
	if len(left) > 0 {
		t.Errorf("Python (%s) sees %q after a strip of\n%q", policy, left, in)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Python (%s) sees other fields %q, want %q\nin:  %q\nout: %q", policy, got, want, in, out)
	}
}
