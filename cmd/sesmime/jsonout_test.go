package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// jsonLines decodes each line of out into a generic object.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for l := range strings.Lines(out) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", l, err)
		}
		objs = append(objs, m)
	}
	return objs
}

// TestJSONFormat checks the one --json format of inject, strip and
// check: a "path" key on every file's object, "path_bytes" for a name
// that is not UTF-8, line numbers as numbers, changes as objects, failed
// files in check's output too, and a summary object last.
func TestJSONFormat(t *testing.T) {
	dir := t.TempDir()
	bad := "caf\xe9.eml" // Latin-1, not UTF-8
	const (
		a   = "X-SES-CONFIGURATION-SET: old\r\nX-SES-MESSAGE-TAGS: a=1\r\nSubject: a\r\n\r\nbody\r\n"
		dup = "Subject: a\nSubject: b\n\nx\n"
	)
	writeFiles(t, dir, map[string]string{
		"a.eml":    a,
		bad:        dup,
		"long.eml": "Subject: " + strings.Repeat("x", 70000) + "\n\nbody\n",
	})
	chdir(t, dir)
	if err := os.Symlink("a.eml", "link.eml"); err != nil {
		t.Fatal(err)
	}

	code, out, errs := runT(t, "", "inject", "--dry-run", "--json", "--config-set", "news", "--tag", "b=2", "--tags-mode", "merge", "a.eml", bad, "long.eml")
	if code != 1 || !strings.HasPrefix(errs, "sesmime: long.eml: line 1: ") {
		t.Fatalf("inject: code %d, stderr %q", code, errs)
	}
	objs := jsonLines(t, out)
	want := []map[string]any{
		{"path": "a.eml", "changed": true, "bytes": float64(len(a) + len("news, b=2") - len("old")), "changes": []any{
			map[string]any{"op": "replaced", "field": "X-SES-CONFIGURATION-SET", "line": float64(1), "old": "old", "new": "news"},
			map[string]any{"op": "replaced", "field": "X-SES-MESSAGE-TAGS", "line": float64(2), "old": "a=1", "new": "a=1, b=2"},
		}},
		{"path": "caf\uFFFD.eml", "path_bytes": base64.StdEncoding.EncodeToString([]byte(bad)), "changed": true, "bytes": float64(len(dup) + len("X-SES-CONFIGURATION-SET: news\nX-SES-MESSAGE-TAGS: b=2\n")), "changes": []any{
			map[string]any{"op": "added", "field": "X-SES-CONFIGURATION-SET", "line": float64(0), "old": "", "new": "news"},
			map[string]any{"op": "added", "field": "X-SES-MESSAGE-TAGS", "line": float64(0), "old": "", "new": "b=2"},
		}},
		{"path": "long.eml", "changed": false, "bytes": float64(0), "line": float64(1)},
	}
	if len(objs) != 4 {
		t.Fatalf("inject --json: %d objects, want 3 and a summary:\n%s", len(objs), out)
	}
	if e, _ := objs[2]["error"].(string); !strings.Contains(e, "line too long") || strings.Contains(e, "line 1") {
		t.Errorf("error member %q: want the reason, without its line", e)
	}
	delete(objs[2], "error")
	if diff := cmp.Diff(want, objs[:3]); diff != "" {
		t.Errorf("inject --json (-want +got):\n%s\n%s", diff, out)
	}
	if s, ok := objs[3]["summary"].(map[string]any); !ok || s["files"] != float64(3) || s["failed"] != float64(1) {
		t.Errorf("summary %v", objs[3])
	}

	// check: findings, a failed file and a skipped one, in path order,
	// then the summary.
	writeFiles(t, dir, map[string]string{"dup.eml": dup})
	code, out, errs = runT(t, "", "check", "--json", "dup.eml", "long.eml", "missing.eml", bad)
	if code != 1 || errs != "" {
		t.Fatalf("check: code %d, stderr %q", code, errs)
	}
	objs = jsonLines(t, out)
	var paths []string
	for _, o := range objs[:len(objs)-1] {
		p, _ := o["path"].(string)
		paths = append(paths, p)
		if _, ok := o["line"].(float64); !ok && o["error"] == nil {
			t.Errorf("finding without a numeric line: %v", o)
		}
	}
	if diff := cmp.Diff([]string{"caf\uFFFD.eml", "dup.eml", "long.eml", "missing.eml"}, paths); diff != "" {
		t.Errorf("check --json paths (-want +got):\n%s\n%s", diff, out)
	}
	if diff := cmp.Diff(map[string]any{"path": "missing.eml", "error": "stat: no such file or directory"}, objs[3]); diff != "" {
		t.Errorf("missing.eml (-want +got):\n%s", diff)
	}
	if objs[0]["path_bytes"] != base64.StdEncoding.EncodeToString([]byte(bad)) {
		t.Errorf("check --json: %v, want path_bytes", objs[0])
	}
	if s, ok := objs[len(objs)-1]["summary"].(map[string]any); !ok || s["files"] != float64(4) || s["failed"] != float64(2) || s["errors"] != float64(2) {
		t.Errorf("check summary %v", objs[len(objs)-1])
	}
}

// TestJSONAmbiguityLine: a header refused as ambiguous has its line as a
// number, like any other error at a line, and the reason without it.
func TestJSONAmbiguityLine(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"bare-cr.eml": "Subject: a\rb\n\nbody\n",
		"late.eml":    "Subject: a\nnot a field\nX-SES-CONFIGURATION-SET: x\n\nbody\n",
	})
	chdir(t, dir)
	code, out, _ := runT(t, "", "inject", "--dry-run", "--json", "--config-set", "news", "bare-cr.eml", "late.eml")
	objs := jsonLines(t, out)
	if code != 1 || len(objs) != 3 {
		t.Fatalf("code %d, %d objects, want 1 and 2 files and a summary:\n%s", code, len(objs), out)
	}
	for i, want := range []struct {
		line float64
		text string
	}{{1, "column 11: "}, {3, ""}} {
		e, _ := objs[i]["error"].(string)
		if objs[i]["line"] != want.line || !strings.HasPrefix(e, want.text) || strings.HasPrefix(e, "line ") {
			t.Errorf("%v: want line %v and the reason without it", objs[i], want.line)
		}
	}
}
