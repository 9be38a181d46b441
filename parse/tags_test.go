package parse_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sesmime/sesmime/parse"
)

func TestParseTags(t *testing.T) {
	type tags = []parse.Tag
	tests := []struct {
		in   string
		want tags
		text string // the ValueError's Value
		col  int    // its Column; -1: no error
	}{
		{in: "", want: nil, col: -1},
		{in: " , ,\t", want: nil, col: -1},
		{in: "a=1", want: tags{{"a", "1"}}, col: -1},
		{in: "a=1, b=2", want: tags{{"a", "1"}, {"b", "2"}}, col: -1},
		{in: "a=1,b=2", want: tags{{"a", "1"}, {"b", "2"}}, col: -1},
		{in: " a = 1 ,\tb=2\t, , ", want: tags{{"a", "1"}, {"b", "2"}}, col: -1},
		{in: "a=1,,b=2,", want: tags{{"a", "1"}, {"b", "2"}}, col: -1},
		{in: "a=", want: tags{{"a", ""}}, text: "", col: 0},
		{in: "a=b=c", want: tags{{"a", "b=c"}}, text: "b=c", col: 4},
		{in: "a=1, a=2", want: tags{{"a", "1"}, {"a", "2"}}, col: -1},
		{in: "a b=c d", want: tags{{"a b", "c d"}}, text: "a b", col: 2},
		{in: "ses:feedback-id-a=x", want: tags{{"ses:feedback-id-a", "x"}}, col: -1},
		{in: "a=1, junk, b=2", want: tags{{"a", "1"}, {"b", "2"}}, text: "junk", col: 6},
		{in: "a=x.y, junk", want: tags{{"a", "x.y"}}, text: "junk", col: 8},
		{in: "a=1, =x, c", want: tags{{"a", "1"}}, text: "=x", col: 6},
		{in: ", , junk", want: nil, text: "junk", col: 5},
		{in: " \t=v ", want: nil, text: "=v", col: 3},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parse.ParseTags(tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseTags(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
			if tc.col < 0 {
				if err != nil {
					t.Errorf("ParseTags(%q) error %v", tc.in, err)
				}
				return
			}
			if !errors.Is(err, parse.ErrInvalidTag) {
				t.Fatalf("ParseTags(%q) error %v, want ErrInvalidTag", tc.in, err)
			}
			ve, ok := errors.AsType[*parse.ValueError](err)
			if !ok {
				t.Fatalf("error %T is not a *parse.ValueError", err)
			}
			if ve.Value != tc.text || ve.Column != tc.col {
				t.Errorf("ValueError{Value: %q, Column: %d}, want {%q, %d}", ve.Value, ve.Column, tc.text, tc.col)
			}
			if !strings.Contains(ve.Error(), tc.text) {
				t.Errorf("Error() = %q does not name the item", ve.Error())
			}
		})
	}
}

func TestFormatTags(t *testing.T) {
	tests := []struct {
		in   []parse.Tag
		want string
	}{
		{nil, ""},
		{[]parse.Tag{{"a", "1"}}, "a=1"},
		{[]parse.Tag{{"a", "1"}, {"b", "2"}, {"c", ""}}, "a=1, b=2, c="},
	}
	for _, tc := range tests {
		if got := parse.FormatTags(tc.in); got != tc.want {
			t.Errorf("FormatTags(%v) = %q, want %q", tc.in, got, tc.want)
		}
		back, _ := parse.ParseTags(tc.want) // "c=" is read, and refused
		if diff := cmp.Diff(tc.in, back); diff != "" {
			t.Errorf("ParseTags(FormatTags(%v)) mismatch (-want +got):\n%s", tc.in, diff)
		}
	}
}

func FuzzParseTags(f *testing.F) {
	for _, s := range []string{
		"", "a=1", "a=1, b=2", " a = 1 ,\tb=2\t, , ", "a=b=c", "a=1, junk, b=2", "=x", "a=\r\n b=2",
		"ses:feedback-id-a=x, campaign=spring", ",,,", "a=1,a=2", "\x00=\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tags, err := parse.ParseTags(s)
		if err != nil {
			ve, ok := errors.AsType[*parse.ValueError](err)
			if !ok || !errors.Is(err, parse.ErrInvalidTag) || ve.Column < 0 || ve.Column > len(s) ||
				!strings.Contains(s, ve.Value) {
				t.Fatalf("ParseTags(%q) error %#v", s, err)
			}
		}
		if len(tags) > strings.Count(s, ",")+1 {
			t.Fatalf("ParseTags(%q) returned %d tags", s, len(tags))
		}
		for _, tg := range tags {
			if tg.Name == "" || strings.ContainsAny(tg.Name, ",=") || strings.Contains(tg.Value, ",") {
				t.Fatalf("ParseTags(%q) returned tag %q", s, tg)
			}
			for _, v := range []string{tg.Name, tg.Value} {
				if strings.Trim(v, " \t") != v {
					t.Fatalf("ParseTags(%q) returned untrimmed %q", s, v)
				}
			}
		}
		formatted := parse.FormatTags(tags)
		back, err2 := parse.ParseTags(formatted)
		if err == nil && err2 != nil {
			t.Fatalf("ParseTags(FormatTags(%q)) = %v", tags, err2)
		}
		if diff := cmp.Diff(tags, back); diff != "" {
			t.Fatalf("ParseTags(FormatTags(ParseTags(%q))) mismatch (-want +got):\n%s", s, diff)
		}
		if again := parse.FormatTags(back); again != formatted {
			t.Fatalf("FormatTags not stable: %q then %q", formatted, again)
		}
	})
}

func TestMergeTags(t *testing.T) {
	tg := func(kv ...string) []parse.Tag {
		var ts []parse.Tag
		for i := 0; i < len(kv); i += 2 {
			ts = append(ts, parse.Tag{Name: kv[i], Value: kv[i+1]})
		}
		return ts
	}
	for _, tc := range []struct {
		name                string
		existing, set, want []parse.Tag
	}{
		{"both empty", nil, nil, tg()},
		{"only new", nil, tg("a", "1"), tg("a", "1")},
		{"override in place, append new", tg("a", "1", "b", "2"), tg("b", "3", "c", "4"), tg("a", "1", "b", "3", "c", "4")},
		{"repeated existing name kept once, first value", tg("a", "1", "b", "2", "a", "9"), tg("c", "3"), tg("a", "1", "b", "2", "c", "3")},
		{"repeated existing name overridden", tg("a", "1", "a", "9"), tg("a", "5"), tg("a", "5")},
	} {
		existing := slices.Clone(tc.existing)
		got := parse.MergeTags(existing, tc.set)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: MergeTags(%v, %v) = %v, want %v", tc.name, tc.existing, tc.set, got, tc.want)
		}
		if !slices.Equal(existing, tc.existing) {
			t.Errorf("%s: MergeTags changed its input to %v", tc.name, existing)
		}
	}
}
