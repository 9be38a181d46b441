package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/parse"
)

// The --json output of every verb (and of sesmime-send) is one object a
// line, written by encoding/json. Every object about a file has the same
// "path" key; a path that is not valid UTF-8 is kept recoverable in
// "path_bytes" (base64), with "path" holding it with U+FFFD for the
// invalid bytes. Line numbers are fields ("line"), never inside a string.

// newJSONOut returns the encoder of --json records, one object a line.
func newJSONOut(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// filePath is the "path" (and "path_bytes") of a record.
type filePath struct {
	Path      string `json:"path"`
	PathBytes []byte `json:"path_bytes,omitempty"`
}

// pathOf returns the filePath of the input p.
func pathOf(p string) filePath {
	if utf8.ValidString(p) {
		return filePath{Path: p}
	}
	return filePath{Path: strings.ToValidUTF8(p, "\uFFFD"), PathBytes: []byte(p)}
}

// fileRecord is the --json object of inject and strip for one file.
type fileRecord struct {
	filePath
	Output  string         `json:"output,omitempty"` // with -o: the file written
	Changed bool           `json:"changed"`
	Bytes   int64          `json:"bytes"`
	decided                // with --rules
	Changes []changeRecord `json:"changes,omitempty"`
	errorFields
	Skipped string `json:"skipped,omitempty"`
}

// A changeRecord is one field added, replaced or removed. Line is the
// field's line in the message, 0 for an added field; Old is "" for an
// added field and New for a removed one.
type changeRecord struct {
	Op    string `json:"op"`
	Field string `json:"field"`
	Line  int    `json:"line"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

func changeRecords(chs []inject.Change) []changeRecord {
	var recs []changeRecord
	for _, c := range chs {
		recs = append(recs, changeRecord{Op: string(c.Op), Field: c.Name, Line: c.Line, Old: c.Old, New: c.New})
	}
	return recs
}

// errorFields are the members of a record about a file that failed:
// "error", the reason, and "line" when the reason is about a line of the
// message.
type errorFields struct {
	Error string `json:"error,omitempty"`
	Line  int    `json:"line,omitempty"`
}

// errorOf returns the errorFields of err for the input path.
func errorOf(path string, err error) errorFields {
	if err == nil {
		return errorFields{}
	}
	if line, msg := lineOf(err); line > 0 {
		return errorFields{Error: msg, Line: line}
	}
	return errorFields{Error: describe(path, err)}
}

// lineOf splits an error about a line of the message into the line and
// the rest of its text; line is 0 for other errors.
func lineOf(err error) (line int, msg string) {
	if se, ok := errors.AsType[*headerblock.SyntaxError](err); ok && error(se) == err && !errors.Is(se.Err, headerblock.ErrEmpty) {
		if se.Text != "" {
			return se.Line, fmt.Sprintf("%v: %q", se.Err, se.Text)
		}
		return se.Line, se.Err.Error()
	}
	if ae, ok := errors.AsType[*headerblock.AmbiguityError](err); ok && error(ae) == err && ae.Line > 0 {
		return ae.Line, ae.Reason()
	}
	if ve, ok := errors.AsType[*parse.ValueError](err); ok && error(ve) == err && ve.Line > 0 {
		at := *ve
		at.Line, at.Column = 0, 0
		if ve.Column > 0 {
			return ve.Line, fmt.Sprintf("column %d: %v", ve.Column, &at)
		}
		return ve.Line, at.Error()
	}
	return 0, ""
}

// findingRecord is the --json object of check for one finding.
type findingRecord struct {
	filePath
	Line     int    `json:"line"`
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
}

// checkFileRecord is the --json object of check for a file that could not
// be read or was skipped.
type checkFileRecord struct {
	filePath
	errorFields
	Skipped string `json:"skipped,omitempty"`
}

// A summaryRecord is the --json object that ends a run: Summary is a
// *stats or a *checkStats.
type summaryRecord struct {
	Summary any `json:"summary"`
}

// checkStats is the summary of a run of check.
type checkStats struct {
	Files        int     `json:"files"` // files read: with findings, without, and failed
	Errors       int     `json:"errors"`
	Warnings     int     `json:"warnings"`
	WithFindings int     `json:"files_with_findings"`
	Failed       int     `json:"failed"`  // files that could not be read
	Skipped      int     `json:"skipped"` // non-regular files left alone
	Elapsed      float64 `json:"elapsed_seconds"`
	Stopped      bool    `json:"interrupted,omitempty"`
}
