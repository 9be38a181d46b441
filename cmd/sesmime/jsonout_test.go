package main

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// encodingJSON returns v as encoding/json's Encoder with SetEscapeHTML(false)
// prints it: the output jsonOut must match.
func encodingJSON(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestJSONRecordsMatchEncodingJSON(t *testing.T) {
	odd := "a\"b\\c\n\r\t\b\f\x00\x1f\x7f<>&é\u2028\u2029\xff\xc3"
	tests := []struct {
		name string
		rec  jsonRecord
	}{
		{"file, least", fileRecord{Path: "a.eml"}},
		{"file, all", fileRecord{Path: odd, Output: "out/a.eml", Changed: true, Error: odd, Bytes: 1 << 40,
			Changes: []string{"added X-SES-CONFIGURATION-SET", odd}, Skipped: "not a regular file (symlink)"}},
		{"finding", findingRecord{Path: "m.eml", Line: 7, Code: "header-8bit", Severity: "warning", Message: odd}},
		{"summary", summaryRecord{&stats{Files: 3, Changed: 1, Unchanged: 1, Failed: 1, Skipped: 2, Bytes: 12345, Elapsed: 1.2345678}}},
		{"summary, interrupted", summaryRecord{&stats{Elapsed: 0.000000123, Stopped: true}}},
		{"summary, no time", summaryRecord{&stats{}}},
		{"summary, huge", summaryRecord{&stats{Elapsed: 1e22}}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := (&jsonOut{w: &buf}).write(tt.rec); err != nil {
			t.Fatal(err)
		}
		if got, want := buf.String(), encodingJSON(t, tt.rec); got != want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, want)
		}
	}
}

// TestJSONStringMatchesEncodingJSON compares the quoting of random byte
// strings, weighted towards the bytes that need care.
func TestJSONStringMatchesEncodingJSON(t *testing.T) {
	pieces := []string{"a", "\"", "\\", "\n", "\x00", "\x1f", "\x7f", "é", "\u2028", "\u2029", "\xff", "\xc3", "\xe2\x80", "😀", "<", "&"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		var s string
		for range r.IntN(12) {
			s += pieces[r.IntN(len(pieces))]
		}
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		want = bytes.ReplaceAll(bytes.ReplaceAll(bytes.ReplaceAll(want, []byte(`\u003c`), []byte("<")), []byte(`\u003e`), []byte(">")), []byte(`\u0026`), []byte("&"))
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	}
}
