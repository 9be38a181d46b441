package progress

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAppendBar(t *testing.T) {
	tests := []struct {
		name  string
		st    barStats
		width int
		want  string
	}{
		{"start, counting", barStats{totalFiles: -1}, 80,
			"0 files, 0 B, 0 B/s, 0s"},
		{"counting", barStats{files: 1, totalFiles: -1, done: 1500, elapsed: time.Second}, 80,
			"1 file, 1.5 kB, 1.5 kB/s, 1s"},
		{"counted, none done", barStats{totalFiles: 3, total: 999}, 80,
			"0/3 files   0% [--------------------------------] 0 B / 999 B, 0 B/s, 0s, ETA -"},
		{"midway", barStats{files: 2, totalFiles: 5, done: 1_200_000, total: 3_000_000, elapsed: 2 * time.Second}, 80,
			"2/5 files  40% [=======>--------------] 1.2 MB / 3.0 MB, 600.0 kB/s, 2s, ETA 3s"},
		{"done", barStats{files: 7, totalFiles: 7, done: 5_000_000_000, total: 5_000_000_000, elapsed: 61500 * time.Millisecond}, 80,
			"7/7 files 100% [=====================] 5.0 GB / 5.0 GB, 81.3 MB/s, 1m2s, ETA 0s"},
		{"more done than counted", barStats{files: 1, totalFiles: 1, done: 2000, total: 1000, elapsed: time.Second}, 72,
			"1/1 files 100% [================] 2.0 kB / 2.0 kB, 2.0 kB/s, 1s, ETA 0s"},
		{"empty files", barStats{files: 1, totalFiles: 4, elapsed: time.Second}, 80,
			"1/4 files  25% [=======>-------------------------] 0 B / 0 B, 0 B/s, 1s, ETA 3s"},
		{"nothing to do", barStats{totalFiles: 0}, 80,
			"0/0 files 100% [=================================] 0 B / 0 B, 0 B/s, 0s, ETA 0s"},
		{"long ETA", barStats{totalFiles: 9, done: 999_999, total: 1_000_000_000_000, elapsed: time.Second}, 80,
			"0/9 files   0% [----------------] 1.0 MB / 1.0 TB, 1.0 MB/s, 1s, ETA 277h46m40s"},
		{"no room for the gauge", barStats{files: 12, totalFiles: 24, done: 10, total: 20, elapsed: time.Second}, 50,
			"12/24 files  50% 10 B / 20 B, 10 B/s, 1s, ETA 1s"},
		{"cut", barStats{files: 12, totalFiles: 24, done: 10, total: 20, elapsed: time.Second}, 20,
			"12/24 files  50% 10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(appendBar([]byte("x"), tc.st, tc.width))
			if got != "x"+tc.want {
				t.Errorf("appendBar(%+v, %d) =\n%q, want\n%q", tc.st, tc.width, got[1:], tc.want)
			}
			if len(got)-1 > tc.width-1 {
				t.Errorf("appendBar(%+v, %d): %d columns", tc.st, tc.width, len(got)-1)
			}
		})
	}
}

func TestAppendSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{999, "999 B"},
		{1000, "1.0 kB"},
		{1049, "1.0 kB"},
		{1050, "1.1 kB"},
		{999_949, "999.9 kB"},
		{999_950, "1.0 MB"},
		{12_345_678, "12.3 MB"},
		{1 << 62, "4.6 EB"},
	}
	for _, tc := range tests {
		if got := string(appendSize(nil, tc.n)); got != tc.want {
			t.Errorf("appendSize(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestNilBar(t *testing.T) {
	var pr *Bar
	pr.SetTotal(1, 1)
	pr.Add(1)
	pr.SetFiles(1)
	var buf bytes.Buffer
	if w := pr.Lines(&buf); w != io.Writer(&buf) {
		t.Errorf("nil Lines(w) = %v, want w", w)
	}
	pr.Finish()
}

// screen plays out on a terminal what was written to it and returns its
// lines: "\r" goes to the first column, "\x1b[K" erases to the end of the
// line, "\n" starts the next one, and other bytes overwrite.
func screen(t *testing.T, out string) []string {
	t.Helper()
	lines := []string{""}
	col := 0
	for i := 0; i < len(out); i++ {
		cur := &lines[len(lines)-1]
		switch {
		case out[i] == '\r':
			col = 0
		case out[i] == '\n':
			lines = append(lines, "")
			col = 0
		case strings.HasPrefix(out[i:], "\x1b[K"):
			*cur = (*cur)[:col]
			i += len("\x1b[K") - 1
		case out[i] == '\x1b':
			t.Fatalf("unknown escape sequence at %q", out[i:])
		default:
			*cur = (*cur)[:col] + string(out[i]) + (*cur)[min(col+1, len(*cur)):]
			col++
		}
	}
	return lines
}

func TestLinesAboveBar(t *testing.T) {
	var tty bytes.Buffer // the terminal
	pr := New(&tty)
	if w := pr.Lines(io.Discard); w != io.Discard {
		t.Errorf("Lines(other writer) = %v, want it unchanged", w)
	}
	const workers, each = 4, 50
	var want []string
	var wg sync.WaitGroup
	pr.SetTotal(workers*each, workers*each*100)
	for g := range workers {
		wg.Go(func() {
			w := pr.Lines(&tty)
			for i := range each {
				pr.Add(100)
				pr.SetFiles(g*each + i)
				fmt.Fprintf(w, "worker %d line %d\n", g, i)
				if i == each/2 {
					time.Sleep(refresh * 3 / 2) // a redraw by the goroutine
				}
			}
		})
		for i := range each {
			want = append(want, fmt.Sprintf("worker %d line %d", g, i))
		}
	}
	wg.Wait()
	pr.SetFiles(workers * each)
	w := pr.Lines(&tty)
	fmt.Fprintf(w, "one line ")
	fmt.Fprintf(w, "in two writes\nthen ")
	fmt.Fprintf(w, "one\n")
	want = append(want, "one line in two writes", "then one")
	fmt.Fprintf(w, "no newline")
	pr.Finish()
	pr.Finish() // a second finish does nothing
	fmt.Fprintf(pr.Lines(&tty), "after\n")

	got := screen(t, tty.String())
	n := len(want)
	if len(got) != n+4 || got[n+3] != "" {
		t.Fatalf("%d lines on the screen, want %d: the lines, no newline, the bar, after and an empty one:\n%s", len(got), n+4, strings.Join(got, "\n"))
	}
	if !strings.HasPrefix(got[n-2], "one line") {
		t.Errorf("lines written after the workers are not last: %q", got[n-2:n])
	}
	if got[n] != "no newline" || got[n+2] != "after" {
		t.Errorf("lines around the final bar: %q, %q, want %q, %q", got[n], got[n+2], "no newline", "after")
	}
	if bar := got[n+1]; !strings.HasPrefix(bar, "200/200 files 100% [====") || !strings.Contains(bar, "=] 20.0 kB / 20.0 kB, ") || !strings.HasSuffix(bar, ", ETA 0s") {
		t.Errorf("final bar %q", bar)
	}
	lines := got[:n]
	slices.Sort(lines)
	slices.Sort(want)
	if !slices.Equal(lines, want) {
		t.Errorf("lines above the bar:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if c := strings.Count(tty.String(), "] "); c < workers*each+3 {
		t.Errorf("bar drawn %d times, want at least once per write of a line and at the end", c)
	}
}
