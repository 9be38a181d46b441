package progress

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// refresh is how often the bar is redrawn while it runs.
const refresh = 100 * time.Millisecond

// defaultWidth is the width of a bar whose writer reports no size: a
// pseudo-terminal nobody sized, or a writer that is no terminal.
const defaultWidth = 80

// A Bar is the progress bar of a run over several files: files and bytes
// done, rate, elapsed time and ETA. Every method is safe for concurrent
// use, and a no-op on a nil *Bar, the run without a bar.
//
// One goroutine redraws the bar in place ("\r", the line, "\x1b[K") every
// refresh; lines printed through Lines clear it, go above it and redraw it;
// Finish draws it a last time and ends its line.
type Bar struct {
	out   io.Writer
	fd    int // out's terminal, for its width; -1 when out is none
	start time.Time

	totalFiles atomic.Int64 // files in the run, -1 until counted
	total      atomic.Int64 // bytes in the run, once totalFiles is known
	done       atomic.Int64 // bytes done
	files      atomic.Int64 // files reported so far

	stop    chan struct{} // closed by Finish
	stopped chan struct{} // closed when the redrawing goroutine is gone
	once    sync.Once     // Finish

	mu       sync.Mutex // guards out and what follows
	pending  []byte     // the start of a line written through Lines, without its newline yet
	finished bool       // the last frame is drawn; lines go straight to out
}

// New starts a bar on w, redrawn in place with "\r" and escape sequences,
// as wide as w when it is a terminal, else 80 columns.
func New(w io.Writer) *Bar {
	pr := &Bar{out: w, fd: -1, start: time.Now(), stop: make(chan struct{}), stopped: make(chan struct{})}
	if IsTerminal(w) {
		pr.fd = int(w.(*os.File).Fd())
	}
	pr.totalFiles.Store(-1)
	go pr.loop()
	return pr
}

// loop redraws the bar every refresh until Finish.
func (pr *Bar) loop() {
	defer close(pr.stopped)
	t := time.NewTicker(refresh)
	defer t.Stop()
	for {
		select {
		case <-pr.stop:
			return
		case <-t.C:
			pr.mu.Lock()
			pr.out.Write(pr.appendFrame(nil))
			pr.mu.Unlock()
		}
	}
}

// appendFrame appends to b the bar's line as it stands, starting with a
// carriage return and ending with an erase to the end of the line, so that
// it overwrites the previous one. The carriage
// return comes first because after the terminal has echoed ^C the cursor
// is no longer in the first column.
func (pr *Bar) appendFrame(b []byte) []byte {
	width := defaultWidth
	if pr.fd >= 0 {
		if w, _, err := term.GetSize(pr.fd); err == nil && w > 0 {
			width = w
		}
	}
	st := barStats{
		files:      pr.files.Load(),
		totalFiles: pr.totalFiles.Load(),
		done:       pr.done.Load(),
		total:      pr.total.Load(),
		elapsed:    time.Since(pr.start),
	}
	b = append(b, '\r')
	b = appendBar(b, st, width)
	return append(b, "\x1b[K"...)
}

// barStats is what the bar shows.
type barStats struct {
	files      int64         // files done
	totalFiles int64         // files in the run; < 0 while not known
	done       int64         // bytes done
	total      int64         // bytes in the run, when totalFiles is known
	elapsed    time.Duration // since the bar started
}

// appendBar appends to b the text of a bar showing st in at most width-1
// columns (a line that fills the last column wraps on some terminals).
// Once the run's total is known (SetTotal):
//
//	2/5 files  40% [=====>--------] 1.2 MB / 3.0 MB, 600.0 kB/s, 2s, ETA 3s
//
// and before, with no percentage or ETA, which would only be guesses:
//
//	2 files, 1.2 MB, 600.0 kB/s, 2s
//
// The percentage is of the bytes (of the files when the total is 0 bytes).
// The bracketed part fills what the text leaves and is left out when that
// is under 10 columns; the text is cut at width-1. Sizes and rates are in
// SI units (powers of 1000); the rate is the average since the start and the
// ETA, "-" until something is done, follows from it.
func appendBar(b []byte, st barStats, width int) []byte {
	rate := 0.0
	if secs := st.elapsed.Seconds(); secs > 0 {
		rate = float64(st.done) / secs
	}
	start := len(b)
	speed := appendSize(nil, int64(rate))
	elapsed := st.elapsed.Round(time.Second)
	if st.totalFiles < 0 {
		b = fmt.Appendf(b, "%d file", st.files)
		if st.files != 1 {
			b = append(b, 's')
		}
		b = fmt.Appendf(b, ", %s, %s/s, %v", appendSize(nil, st.done), speed, elapsed)
		return b[:min(len(b), start+width-1)]
	}
	// frac is done/all in thousandths.
	var frac int64
	switch {
	case st.total > 0:
		frac = min(1000, st.done*1000/st.total)
	case st.totalFiles > 0:
		frac = min(1000, st.files*1000/st.totalFiles)
	default:
		frac = 1000
	}
	eta := "-"
	switch {
	case frac >= 1000:
		eta = "0s"
	case rate > 0 && st.total > 0:
		eta = time.Duration(float64(st.total-st.done) / rate * float64(time.Second)).Round(time.Second).String()
	case st.files > 0 && st.total == 0:
		eta = (st.elapsed / time.Duration(st.files) * time.Duration(st.totalFiles-st.files)).Round(time.Second).String()
	}
	b = fmt.Appendf(b, "%d/%d files %3d%% ", st.files, st.totalFiles, frac/10)
	rest := fmt.Appendf(nil, "%s / %s, %s/s, %v, ETA %s", appendSize(nil, st.done), appendSize(nil, max(st.total, st.done)), speed, elapsed, eta)
	if cells := width - 1 - (len(b) - start) - len(rest) - len("[] "); cells >= 10 {
		// The gauge: "[====>----] ", fill of cells full, the last of them
		// drawn as the tip unless all are.
		fill := int(int64(cells) * frac / 1000)
		gauge := []byte(strings.Repeat("=", fill) + strings.Repeat("-", cells-fill))
		if fill > 0 && fill < cells {
			gauge[fill-1] = '>'
		}
		b = fmt.Appendf(b, "[%s] ", gauge)
	}
	b = append(b, rest...)
	return b[:min(len(b), start+width-1)]
}

// sizeUnits are the units of appendSize, powers of 1000.
var sizeUnits = []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}

// appendSize appends n bytes to b in SI units with one decimal: "999 B",
// "1.0 kB", "12.3 MB".
func appendSize(b []byte, n int64) []byte {
	if n < 1000 {
		return fmt.Appendf(b, "%d B", n)
	}
	f, u := float64(n)/1000, 1
	for f >= 999.95 && u < len(sizeUnits)-1 {
		f /= 1000
		u++
	}
	return fmt.Appendf(b, "%.1f %s", f, sizeUnits[u])
}

// SetTotal sets the size of the run, once counted: files and bytes.
func (pr *Bar) SetTotal(files, bytes int64) {
	if pr == nil {
		return
	}
	pr.total.Store(bytes)
	pr.totalFiles.Store(files)
}

// Add counts n bytes done.
func (pr *Bar) Add(n int64) {
	if pr == nil || n <= 0 {
		return
	}
	pr.done.Add(n)
}

// SetFiles sets the number of files shown as done.
func (pr *Bar) SetFiles(n int) {
	if pr == nil {
		return
	}
	pr.files.Store(int64(n))
}

// Lines returns the writer for lines meant for w: when w is the bar's own
// writer, each complete line written to it is printed above the bar, which
// is cleared first and redrawn after, so the two do not interleave;
// otherwise w itself.
func (pr *Bar) Lines(w io.Writer) io.Writer {
	if pr == nil || w != pr.out {
		return w
	}
	return lineWriter{pr}
}

// A lineWriter prints lines above a Bar; see Bar.Lines. A write that
// does not end a line is held until one does.
type lineWriter struct{ pr *Bar }

// Write prints the lines that p completes above the bar and redraws it.
func (lw lineWriter) Write(p []byte) (int, error) {
	pr := lw.pr
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if pr.finished {
		return pr.out.Write(p)
	}
	pr.pending = append(pr.pending, p...)
	i := bytes.LastIndexByte(pr.pending, '\n')
	if i < 0 {
		return len(p), nil
	}
	b := []byte("\r\x1b[K")
	b = append(b, pr.pending[:i+1]...)
	b = pr.appendFrame(b)
	pr.pending = pr.pending[:copy(pr.pending, pr.pending[i+1:])]
	if _, err := pr.out.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Finish stops the redrawing, prints what is left of a line written
// through lines, and draws the bar a last time, with the total set to what
// was done, ending its line. Later lines go straight to the writer.
func (pr *Bar) Finish() {
	if pr == nil {
		return
	}
	pr.once.Do(func() {
		close(pr.stop)
		<-pr.stopped
		pr.mu.Lock()
		defer pr.mu.Unlock()
		var b []byte
		if len(pr.pending) > 0 {
			b = append(b, "\r\x1b[K"...)
			b = append(b, pr.pending...)
			b = append(b, '\n')
			pr.pending = nil
		}
		pr.out.Write(append(pr.appendFrame(b), '\n'))
		pr.finished = true
	})
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
