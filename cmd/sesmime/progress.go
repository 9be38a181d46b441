package main

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/vbauerster/cupwriter"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// progress is the progress bar of a run over several files, drawn on
// stderr: files and bytes done, rate, elapsed time and ETA. It hides the
// library (github.com/vbauerster/mpb/v8, which, unlike
// github.com/schollz/progressbar/v3 before it, does not import net/http and
// so keeps start-up light) from the rest of the command. Every method is a
// no-op on a nil *progress, the run without a bar.
type progress struct {
	out   io.Writer // the writer the bar is drawn on
	p     *mpb.Progress
	bar   *mpb.Bar
	total atomic.Int64 // bytes listed so far
	files atomic.Int64 // files reported so far
}

// newProgress returns the progress bar of a run on stderr, or nil: the bar
// is drawn when --progress is always, or auto with a terminal stderr and a
// run that may cover several files.
func (c *config) newProgress(stderr io.Writer, multi bool) *progress {
	switch {
	case c.progress == "always":
		return newProgress(stderr, !isTerminal(stderr))
	case c.progress == "auto" && multi && isTerminal(stderr):
		return newProgress(stderr, false)
	}
	return nil
}

// newProgress starts a bar on w. force draws it even when w is not a
// terminal (--progress always), redrawing in place with escape sequences.
func newProgress(w io.Writer, force bool) *progress {
	pr := &progress{out: w}
	pr.p = mpb.New(
		mpb.WithConsoleWriter(crWriter{cupwriter.New(w, force), w}),
		mpb.WithRefreshRate(100*time.Millisecond),
		optionIf(force, mpb.WithAutoRefresh()),
	)
	files := decor.Any(func(decor.Statistics) string {
		return fmt.Sprintf("%d files", pr.files.Load())
	})
	pr.bar = pr.p.New(-1, mpb.BarStyle(),
		mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(files, decor.Percentage(decor.WC{W: 6})),
		mpb.AppendDecorators(
			decor.Counters(decor.SizeB1000(0), "% .1f / % .1f"),
			decor.Name(", "),
			decor.AverageSpeed(decor.SizeB1000(0), "% .1f"),
			decor.Name(", "),
			decor.Elapsed(decor.ET_STYLE_GO),
			decor.Name(", ETA "),
			decor.AverageETA(decor.ET_STYLE_GO),
		),
	)
	return pr
}

// optionIf returns opt when cond holds and nil, which mpb skips, otherwise.
func optionIf(cond bool, opt mpb.ContainerOption) mpb.ContainerOption {
	if cond {
		return opt
	}
	return nil
}

// crWriter is mpb's own console writer, which redraws the bar by moving
// the cursor up to its first line, but starting each redraw with a carriage
// return: after the terminal has echoed ^C the cursor is no longer in the
// first column, and a full-width bar drawn from there would wrap onto a
// line that the next redraw, or the clearing at the end, does not reach.
// cupwriter is mpb's default ConsoleWriter, by the same author.
type crWriter struct {
	*cupwriter.Writer
	out io.Writer
}

// GetTermSize reports 80×24 for a terminal that reports no size (a
// pseudo-terminal nobody sized), where mpb would draw nothing.
func (c crWriter) GetTermSize() (width, height int, err error) {
	width, height, err = c.Writer.GetTermSize()
	if err == nil && (width <= 0 || height <= 0) {
		width, height = 80, 24
	}
	return width, height, err
}

func (c crWriter) Flush(lines int) error {
	if _, err := io.WriteString(c.out, "\r"); err != nil {
		return err
	}
	return c.Writer.Flush(lines)
}

// grow adds n bytes to the total as files are listed.
func (pr *progress) grow(n int64) {
	if pr == nil || n <= 0 {
		return
	}
	pr.bar.SetTotal(pr.total.Add(n), false)
}

// add counts n bytes done.
func (pr *progress) add(n int64) {
	if pr == nil || n <= 0 {
		return
	}
	pr.bar.IncrInt64(n)
}

// setFiles sets the number of files shown as done.
func (pr *progress) setFiles(n int) {
	if pr == nil {
		return
	}
	pr.files.Store(int64(n))
}

// lines returns the writer for lines meant for w: when w is the bar's own
// writer, the lines are printed above the bar at its next redraw, so the two
// do not interleave; otherwise w itself.
func (pr *progress) lines(w io.Writer) io.Writer {
	if pr == nil || w != pr.out {
		return w
	}
	return pr.p
}

// finish completes the bar, which removes it from the terminal, and waits
// until the lines printed above it are out.
func (pr *progress) finish() {
	if pr == nil {
		return
	}
	pr.bar.SetTotal(-1, true) // the total is what was done
	pr.p.Wait()
}
