package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesmime/sesmime/awsses/fakeses"
)

// setup starts a fake SES and points the SDK's standard configuration at
// static credentials and a fixed region, away from any real file or
// metadata service.
func setup(t *testing.T) *fakeses.Server {
	srv := fakeses.New()
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":       "SECRETTEST",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "eu-west-1",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ENDPOINT_URL":            "",
		"AWS_MAX_ATTEMPTS":            "",
		"AWS_RETRY_MODE":              "",
	} {
		t.Setenv(k, v)
	}
	return srv
}

func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb strings.Builder
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func writeTree(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const msg = "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"

func TestSendDirectory(t *testing.T) {
	for _, api := range []string{"ses", "sesv2"} {
		t.Run(api, func(t *testing.T) {
			srv := setup(t)
			dir := writeTree(t, map[string]string{
				"a.eml":     msg,
				"sub/b.eml": "X-SES-MESSAGE-TAGS: campaign=spring\r\n" + msg,
				"skip.txt":  msg,
			})
			code, out, errs := runCmd(t, "", "--api", api, "--endpoint-url", srv.URL, "--config-set", "news",
				"--tag", "team=growth", "--on-conflict", "merge", "-j", "1", "-r", dir)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			want := filepath.Join(dir, "a.eml") + "\t0100019a-fake-000001\n" + filepath.Join(dir, "sub/b.eml") + "\t0100019a-fake-000002\n"
			if out != want {
				t.Errorf("stdout %q, want %q", out, want)
			}
			if !strings.Contains(errs, "2 sent, 0 failed") {
				t.Errorf("stderr %q", errs)
			}
			reqs := srv.Requests()
			if len(reqs) != 2 {
				t.Fatalf("%d requests", len(reqs))
			}
			r := reqs[1]
			if r.Region != "eu-west-1" || r.AccessKey != "AKIDTEST" || r.API != api {
				t.Errorf("request %s in %s as %s", r.API, r.Region, r.AccessKey)
			}
			tags := r.SESFields["X-SES-MESSAGE-TAGS"]
			if api == "sesv2" {
				if len(tags) != 0 || len(r.Tags) != 2 || r.ConfigurationSetName != "news" {
					t.Errorf("sesv2: header tags %q, API tags %v, set %q", tags, r.Tags, r.ConfigurationSetName)
				}
			} else if len(tags) != 1 || tags[0] != "campaign=spring, team=growth" || len(r.Tags) != 0 {
				t.Errorf("ses: header tags %q, API tags %v", tags, r.Tags)
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	srv := setup(t)
	srv.Respond = func(n int, _ fakeses.Request) fakeses.Fault {
		if n == 1 {
			return fakeses.Invalid
		}
		return fakeses.OK
	}
	dir := writeTree(t, map[string]string{
		"a.eml": msg,
		"b.eml": "X-SES-CONFIGURATION-SET: other\r\n" + msg,
		"c.eml": msg,
	})
	code, out, errs := runCmd(t, "", "--region", "us-west-2", "--endpoint-url", srv.URL, "--config-set", "news", "-j", "1", "--json", "-r", dir)
	if code != 1 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var reps []record
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var r record
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		reps = append(reps, r)
	}
	if len(reps) != 3 || !strings.Contains(reps[0].Error, "BadRequestException") ||
		!strings.Contains(reps[1].Error, "disagree") || reps[2].MessageID != "0100019a-fake-000002" {
		t.Errorf("reports %+v", reps)
	}
	for _, want := range []string{"a.eml: sesv2:", "b.eml: line 1: message and options disagree", "1 sent, 2 failed"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr %q lacks %q", errs, want)
		}
	}
	if srv.Requests()[0].Region != "us-west-2" {
		t.Errorf("--region not used: %s", srv.Requests()[0].Region)
	}
}

func TestSendStdin(t *testing.T) {
	srv := setup(t)
	code, out, errs := runCmd(t, msg, "--api", "ses", "--placement", "params", "--tag", "a=1", "--endpoint-url", srv.URL, "-")
	if code != 0 || out != "-\t0100019a-fake-000001\n" || errs != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	r := srv.Requests()[0]
	if string(r.Raw) != msg || len(r.Tags) != 1 {
		t.Errorf("raw %q, tags %v", r.Raw, r.Tags)
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	srv := setup(t)
	dir := writeTree(t, map[string]string{
		"a.eml":   "From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nbody\r\n",
		"b.eml":   "",
		"dup.eml": "From: a@example.com\r\nSubject: a\r\nSubject: b\r\n\r\nx\r\n",
	})
	code, out, errs := runCmd(t, "", "--endpoint-url", srv.URL, "--dry-run", "--config-set", "news", "--tag", "a=1", "-r", dir)
	a, dup := filepath.Join(dir, "a.eml"), filepath.Join(dir, "dup.eml")
	want := a + ": sesv2 SendEmail; configuration set news (parameter); tags a=1 (parameter); from a@example.com (header); to b@example.com (header); 61 bytes, 84 in base64\n" +
		dup + ": sesv2 SendEmail; configuration set news (parameter); tags a=1 (parameter); from a@example.com (header); to (none) (header); 50 bytes, 68 in base64\n" +
		dup + ":3: error: duplicate-field: Subject appears again (first at line 2): SES rejects the message with \"Duplicate header 'Subject'.\"\n"
	if code != 1 || out != want {
		t.Errorf("exit %d, stdout\n%s\nwant\n%s", code, out, want)
	}
	for _, w := range []string{"b.eml: ", "dup.eml: 'sesmime check' finds errors", "1 would be sent, 2 failed (dry run: nothing sent)"} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr %q lacks %q", errs, w)
		}
	}
	// ses with headers: the values go into the message.
	code, out, _ = runCmd(t, "", "--api", "ses", "--dry-run", "--config-set", "news", "--tag", "a=1", a)
	if want := a + ": ses SendRawEmail; configuration set news (header); tags a=1 (header); from a@example.com (header); to b@example.com (header); 117 bytes, 156 in base64\n"; code != 0 || out != want {
		t.Errorf("ses: exit %d, stdout %q, want %q", code, out, want)
	}
	if len(srv.Requests()) != 0 {
		t.Error("dry run sent a request")
	}
}

// TestNoCredentials resolves credentials once: one line, exit 2, no request.
func TestNoCredentials(t *testing.T) {
	srv := setup(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	dir := writeTree(t, map[string]string{"a.eml": msg, "b.eml": msg, "c.eml": msg})
	code, out, errs := runCmd(t, "", "--endpoint-url", srv.URL, "-r", dir)
	if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "sesmime-send: no AWS credentials") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if len(srv.Requests()) != 0 {
		t.Error("sent without credentials")
	}
}

// TestInputOrder prints the reports in input order although the first
// message finishes last.
func TestInputOrder(t *testing.T) {
	srv := setup(t)
	srv.Respond = func(n int, r fakeses.Request) fakeses.Fault {
		if strings.Contains(string(r.Raw), "first") {
			time.Sleep(200 * time.Millisecond)
		}
		return fakeses.OK
	}
	dir := writeTree(t, map[string]string{"1.eml": "Subject: first\r\n\r\nx\r\n", "2.eml": msg, "3.eml": msg})
	code, out, errs := runCmd(t, "", "--endpoint-url", srv.URL, "-j", "3", "-r", dir)
	var names []string
	for l := range strings.Lines(out) {
		name, _, _ := strings.Cut(l, "\t")
		names = append(names, filepath.Base(name))
	}
	if code != 0 || strings.Join(names, " ") != "1.eml 2.eml 3.eml" {
		t.Errorf("exit %d, order %q, stderr %q", code, names, errs)
	}
}

func TestVersion(t *testing.T) {
	if code, out, _ := runCmd(t, "", "--version"); code != 0 || !strings.HasPrefix(out, "sesmime-send ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}

func TestUsage(t *testing.T) {
	setup(t)
	tests := [][]string{
		{},
		{"--api", "v3", "x"},
		{"--placement", "both", "x"},
		{"--on-conflict", "ask", "x"},
		{"--tag", "novalue", "x"},
		{"--tag", "a=x@y", "x"},
		{"--api", "ses", "--tenant", "t", "x"},
		{"--api", "sesv2", "--source-arn", "arn", "x"},
		{"-j", "0", "x"},
		{"--nope"},
		{"--endpoint-url", "localhost:4566", "x"},
		{"--endpoint-url", "ftp://h/", "x"},
		{"--tag", "a=b,c=d", "x"},
	}
	for _, args := range tests {
		// A usage error is two lines: what is wrong, and where the help is.
		if code, _, errs := runCmd(t, "", args...); code != 2 || strings.Count(errs, "\n") != 2 || !strings.HasSuffix(errs, "Run 'sesmime-send --help' for usage.\n") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errs)
		}
	}
	if code, _, errs := runCmd(t, "", "--endpoint-url", "localhost:4566", "x"); code != 2 || !strings.HasPrefix(errs, `sesmime-send: --endpoint-url "localhost:4566": want an http:// or https:// URL`) {
		t.Errorf("--endpoint-url: exit %d, stderr %q", code, errs)
	}
	dir := writeTree(t, map[string]string{"a.eml": msg})
	if code, _, errs := runCmd(t, "", "--dry-run", dir); code != 1 || !strings.Contains(errs, "is a directory (use -r to recurse)") {
		t.Errorf("directory without -r: exit %d, stderr %q", code, errs)
	}
	if code, _, _ := runCmd(t, "", "-h"); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
}

// TestReadmeSynopsis: every flag of awsses/README.md's synopsis of
// sesmime-send is in --help, with the same argument name.
func TestReadmeSynopsis(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, syn, ok := strings.Cut(string(b), "```\nsesmime-send [")
	syn, _, _ = strings.Cut(syn, "```")
	if !ok {
		t.Fatal("no sesmime-send synopsis in the README")
	}
	code, help, _ := runCmd(t, "", "--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	items := regexp.MustCompile(`\[(-[a-z]|--[a-z-]+)(?: ([^\]\s]+))?\]`).FindAllStringSubmatch("["+syn, -1)
	if len(items) < 20 {
		t.Fatalf("found %d flags in the README's synopsis, want at least 20", len(items))
	}
	for _, m := range items {
		flag, arg := m[1], m[2]
		want := regexp.QuoteMeta(flag) // --name, or -x as "-x, --name"
		if !strings.HasPrefix(flag, "--") {
			want += `, --[a-z-]+`
		}
		if arg != "" {
			want += " " + regexp.QuoteMeta(arg)
		}
		if !regexp.MustCompile(`(?m)^ +` + want + `( |$)`).MatchString(help) {
			t.Errorf("README's synopsis has [%s %s]; --help has no line %q", flag, arg, want)
		}
	}
}
