package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/internal/atomicfile"
	"github.com/sesmime/sesmime/internal/progress"
)

// now is the clock of the summary; tests may swap it.
var now = time.Now

// notifyContext returns a context cancelled by SIGINT or SIGTERM, with the
// signal as its cause, so that a run stops between files, or between
// chunks of a file's copy, removes what it has not finished and reports
// what it has. A run on stdin or to stdout (immediate) exits at the signal
// instead: it may be blocked reading a pipe or writing to one, and has
// nothing to clean up. So does any run at a second signal, saying that
// temporary files may be left when it writes them (temps: -i, -o).
func notifyContext(parent context.Context, stderr io.Writer, immediate, temps bool) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for again := immediate; ; again = true {
			select {
			case s := <-sigs:
				sig := s.(syscall.Signal) // os.Interrupt is SIGINT
				if again {
					msg := "the output is incomplete"
					if !immediate {
						msg = "exiting at once"
					}
					if temps {
						msg += " (" + tempPrefix + "*.tmp files may be left)"
					}
					fmt.Fprintf(stderr, "sesmime: %v; %s\n", interrupted{sig}, msg)
					os.Exit(exitSignal0 + int(sig))
				}
				cancel(interrupted{sig})
			case <-done:
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// runFiles runs inject, strip or check: it parses the command line (an
// error there is a usage error), then runs the verb over its inputs.
func runFiles(ctx context.Context, verb string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := parseConfig(verb, args)
	if errors.Is(err, pflag.ErrHelp) {
		printUsage(stdout, verb)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "sesmime %s: %v\nRun 'sesmime help %s' for usage.\n", verb, err, verb)
		return exitUsage
	}
	ctx, stop := notifyContext(ctx, stderr, c.stdinMode() || verb != "check" && c.toStdout() && !c.dryRun, !c.toStdout() && !c.dryRun)
	defer stop()
	if verb == "check" {
		return c.runCheck(ctx, stdin, stdout, stderr)
	}
	return c.runRewrite(ctx, stdin, stdout, stderr)
}

// runRewrite runs inject or strip: it lists the inputs, rewrites them with
// c.jobs workers and reports each in input order.
func (c *config) runRewrite(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) int {
	p := &processor{ctx: ctx, c: c, rw: c.rw, stdin: stdin, stdout: stdout}
	p.commit.Barrier = testBarrier
	if c.outDir != "" && !c.dryRun {
		err := os.MkdirAll(c.outDir, 0o777)
		if err == nil {
			p.root, err = os.OpenRoot(c.outDir)
		}
		if err != nil {
			fmt.Fprintf(stderr, "sesmime: -o: %v\n", err)
			return exitFailed
		}
		defer p.root.Close()
	}
	s := c.begin(stdin, stderr)
	rep := &reporter{c: c, stdout: stdout, stderr: stderr, bar: s.bar, saidDir: map[string]bool{}}
	if c.json {
		rep.enc = newJSONOut(stdout)
	}
	var b *batching
	if (c.inPlace || c.outDir != "") && !c.dryRun {
		b = &batching{settle: p.settle, full: p.commit.Full}
	}
	forEachOrdered(ctx, s, p.process, b, rep.report)
	st := &rep.st
	if err := p.commit.Close(); err != nil { // the last barrier, for the renames
		rep.line(stderr, "sesmime: finishing the run (final sync, removing temporary files): %v\n", err)
		st.Failed++
	}
	st.Elapsed, st.Stopped = s.finish(ctx)
	if c.json {
		rep.enc.Encode(summaryRecord{st})
	}
	verb := "written"
	if c.dryRun {
		verb = "would be written"
	}
	summary := fmt.Sprintf("%s: %s changed, %s unchanged, %s failed; %s %s", plural(st.Files, "file"), itoa(st.Changed), itoa(st.Unchanged), itoa(st.Failed), plural(st.Bytes, "byte"), verb)
	return s.end(ctx, stderr, st.Files, st.Skipped, summary, st.Failed > 0)
}

// newProgress returns the progress bar of a run on stderr, or nil: the bar
// is drawn when --progress is always, or auto with a terminal stderr and a
// run that may cover several files.
func (c *config) newProgress(stderr io.Writer, multi bool) *progress.Bar {
	if c.progress == "always" || c.progress == "auto" && multi && progress.IsTerminal(stderr) {
		return progress.New(stderr)
	}
	return nil
}

// multi reports whether the run may cover more than one file: it then
// prints a summary, and a progress bar when stderr is a terminal.
func (c *config) multi() bool {
	if len(c.paths) > 1 || c.filesFrom != "" {
		return true
	}
	if len(c.paths) == 1 && c.recursive {
		fi, err := os.Stat(c.paths[0])
		return err == nil && fi.IsDir()
	}
	return false
}

// stats is the summary of a run.
type stats struct {
	Files     int     `json:"files"` // files seen: changed + unchanged + failed
	Changed   int     `json:"changed"`
	Unchanged int     `json:"unchanged"`
	Failed    int     `json:"failed"`
	Skipped   int     `json:"skipped"` // non-regular files left alone
	Bytes     int64   `json:"bytes"`   // bytes written (with --dry-run: that would be written); 0 for a file -i left alone
	Elapsed   float64 `json:"elapsed_seconds"`
	Stopped   bool    `json:"interrupted,omitempty"`
}

// A session is the frame of a run over its inputs that every verb shares:
// the progress bar, the count ahead, the summary and the exit code.
type session struct {
	c     *config
	start time.Time
	multi bool // the run may cover several files
	bar   *progress.Bar
	count *tally
}

// begin starts a run of c.
func (c *config) begin(stdin io.Reader, stderr io.Writer) *session {
	s := &session{c: c, start: now(), multi: c.multi()}
	s.bar = c.newProgress(stderr, s.multi)
	c.list = new(listing)
	c.openList(stdin)
	if s.multi {
		s.count = c.countAhead(s.bar)
	}
	return s
}

// finish ends the count and the bar; it returns the elapsed seconds and
// whether the run was stopped.
func (s *session) finish(ctx context.Context) (float64, bool) {
	s.count.finish()
	s.bar.Finish()
	return now().Sub(s.start).Seconds(), ctx.Err() != nil
}

// end prints the summary of a run over several files that saw files
// inputs and skipped others, the line of a stopped run, and returns the
// exit code; failed says some input failed.
func (s *session) end(ctx context.Context, stderr io.Writer, files, skipped int, summary string, failed bool) int {
	sk := s.c.list.skipped(s.c.exts, skipped)
	if sk != "" {
		sk = " (" + sk + ")"
	}
	switch {
	case s.c.json: // the summary object is printed
	case s.multi && files == 0 && ctx.Err() == nil:
		fmt.Fprintf(stderr, "sesmime: 0 files%s\n", sk)
	case s.multi:
		fmt.Fprintf(stderr, "sesmime: %s in %v%s\n", summary, now().Sub(s.start).Round(time.Millisecond), sk)
	}
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "sesmime: %s\n", stopSummary(ctx, files+skipped, s.count))
		return exitCode(ctx)
	}
	if failed || s.multi && files == 0 {
		return exitFailed
	}
	return exitOK
}

// maxBatch bounds how many finished files a worker holds for one
// settle call (one sync of their file systems, then the renames).
const maxBatch = atomicfile.MaxBatch

// batching says how a worker's outcomes are settled in batches.
type batching struct {
	settle func([]outcome) // commits a batch
	// full reports whether n outcomes of bytes in all (written), the
	// first held age ago, make a batch.
	full func(n int, bytes int64, age time.Duration) bool
}

// forEachOrdered lists the inputs of c, runs do on each with c.jobs
// workers and calls report with the results in input order. After ctx is
// cancelled no new input is started and the results already made are
// reported.
//
// When b is not nil, each worker holds its results and passes them to
// b.settle in batches before they are reported: when b.full says so, when
// no next input is ready yet, and before it stops (also after a signal). A
// batch settles in the background while the worker fills the next.
func forEachOrdered(ctx context.Context, s *session, do func(job) outcome, b *batching, report func(outcome)) {
	c := s.c
	jobs := make(chan job, maxBatch)
	results := make(chan outcome, maxBatch)
	// window bounds how far the workers may run ahead of the report, which
	// is in input order: a slow file holds back at most this many outcomes.
	window := make(chan struct{}, 64+4*c.jobs+2*maxBatch*c.jobs)
	go func() {
		seq := 0
		// On a signal this goroutine may stay blocked reading --files-from;
		// the run does not wait for it.
		defer close(jobs)
		c.enumerate(func(j job) bool {
			s.count.list(j.size)
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return false
			}
			j.seq = seq
			select {
			case jobs <- j:
				seq++
				return true
			case <-ctx.Done():
				return false
			}
		}, s.bar != nil)
	}()
	var wg sync.WaitGroup
	for range c.jobs {
		wg.Go(func() {
			var (
				held  []outcome
				bytes int64     // of held
				first time.Time // when held[0] was added
				// A batch is settled in the background while the worker
				// goes on with the next one: one at a time per worker.
				settling = make(chan struct{}, 1)
				bwg      sync.WaitGroup
			)
			flush := func() {
				if len(held) == 0 {
					return
				}
				hs := held
				held, bytes = nil, 0
				settling <- struct{}{}
				bwg.Go(func() {
					b.settle(hs)
					for _, v := range hs {
						results <- v
					}
					<-settling
				})
			}
			defer bwg.Wait()
			defer flush()
			for {
				var (
					j  job
					ok bool
				)
				select {
				case j, ok = <-jobs:
				default:
					flush() // nothing ready: settle what is held before waiting
					select {
					case <-ctx.Done():
						return
					case j, ok = <-jobs:
					}
				}
				if !ok || ctx.Err() != nil {
					return // a job taken after the signal is counted as not processed
				}
				// A file once started is finished (or abandoned by its
				// own error) before the worker looks at ctx again.
				v := do(j)
				if b == nil {
					results <- v
					continue
				}
				if len(held) == 0 {
					first = time.Now()
				}
				held, bytes = append(held, v), bytes+v.res.Written
				if b.full(len(held), bytes, time.Since(first)) {
					flush()
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	pending := make(map[int]outcome)
	next := 0
	for v := range results {
		pending[v.seq] = v
		for {
			v, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			report(v)
			<-window
			next++
		}
	}
	// After a signal, jobs listed but never started leave gaps: report what
	// was done.
	for _, seq := range slices.Sorted(maps.Keys(pending)) {
		report(pending[seq])
	}
}

// A reporter prints the outcome of each file.
type reporter struct {
	c       *config
	stdout  io.Writer
	stderr  io.Writer
	enc     *json.Encoder
	bar     *progress.Bar
	st      stats
	saidDir map[string]bool // directories reported not writable
}

// outputError returns the text of an error o met writing its output, in
// terms of the output's path rather than a temporary file's, or "" when
// the error is not about the output. A directory that does not let the
// run create files (-i needs to, beside each file) is returned as dir too,
// so it is said once: "DIR: not writable (needed by -i)".
func (r *reporter) outputError(o outcome) (msg, dir string) {
	c := r.c
	if !c.inPlace && c.outDir == "" {
		return "", ""
	}
	pe, ok := errors.AsType[*fs.PathError](o.err)
	if !ok || pe.Path == o.path {
		return "", ""
	}
	out, flag := o.path, "-i"
	if c.outDir != "" {
		out, flag = filepath.Join(c.outDir, o.out), "-o"
	}
	temp := strings.HasPrefix(filepath.Base(pe.Path), tempPrefix)
	if temp && (errors.Is(pe.Err, fs.ErrPermission) || errors.Is(pe.Err, syscall.EROFS)) {
		dir := filepath.Dir(out)
		return dir + ": not writable (needed by " + flag + ")", dir
	}
	if temp && out == o.path {
		return pe.Op + ": " + pe.Err.Error(), "" // the line starts with the path
	}
	if temp || c.outDir != "" {
		return out + ": " + pe.Op + ": " + pe.Err.Error(), ""
	}
	return "", ""
}

func (r *reporter) report(o outcome) {
	name := shown(o.path)
	if in, ok := errors.AsType[interrupted](o.err); ok {
		// Abandoned mid-way: not done, like the files not reached.
		r.line(r.stderr, "sesmime: %s: %v; left as it was\n", name, in)
		return
	}
	r.bar.Add(o.size)
	text := r.enc == nil // the lines --json replaces
	rec := fileRecord{filePath: pathOf(o.path), decided: o.decided}
	if r.c.dryRun && text {
		for _, l := range o.lines {
			r.line(r.stdout, "%s: %s\n", name, l) // --rules: how the rules decided
		}
	}
	if o.out != "" && !r.c.dryRun {
		rec.Output = filepath.Join(r.c.outDir, o.out)
	}
	switch {
	case o.note != "":
		r.st.Skipped++
		rec.Skipped = o.note
		if text {
			r.line(r.stderr, "sesmime: %s: skipped: %s\n", name, o.note)
		}
	case o.err != nil:
		r.st.Files++
		r.st.Failed++
		rec.errorFields = errorOf(o.path, o.err)
		line := name + ": " + describe(o.path, o.err)
		if msg, dir := r.outputError(o); msg != "" {
			rec.errorFields, line = errorFields{Error: msg}, name+": "+msg
			if dir != "" { // one line for a directory, not one for each of its files
				line = msg
				if r.saidDir[dir] {
					line = ""
				}
				r.saidDir[dir] = true
			}
		}
		if line != "" {
			r.line(r.stderr, "sesmime: %s\n", line)
		}
	default:
		r.st.Files++
		if o.res.Changed {
			r.st.Changed++
		} else {
			r.st.Unchanged++
		}
		r.st.Bytes += o.res.Written
		rec.Changed, rec.Bytes = o.res.Changed, o.res.Written
		if !text {
			rec.Changes = changeRecords(o.res.Changes)
		} else if r.c.dryRun {
			if len(o.res.Changes) == 0 {
				r.line(r.stdout, "%s: unchanged\n", name)
			}
			for _, ch := range o.res.Changes {
				r.line(r.stdout, "%s: %s\n", name, describeChange(ch))
			}
		}
	}
	if !text {
		r.enc.Encode(rec)
	}
	r.bar.SetFiles(r.st.Files + r.st.Skipped)
}

// shown returns the input path as a message names it: "<stdin>" for "-",
// and quoted when it holds a control character (a CR or a newline from
// --files-from, an escape), so that what is printed is what was read.
func shown(path string) string {
	if path == "-" {
		return "<stdin>"
	}
	if strings.ContainsFunc(path, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return strconv.Quote(path)
	}
	return path
}

// describeChange returns the --dry-run line of a change, with the old and
// the new value: `replaced X-SES-CONFIGURATION-SET (line 3): "old" -> "news"`.
func describeChange(ch inject.Change) string {
	s := fmt.Sprintf("%s %s", ch.Op, ch.Name)
	if ch.Line > 0 {
		s += fmt.Sprintf(" (line %d)", ch.Line)
	}
	switch ch.Op {
	case inject.Added:
		return fmt.Sprintf("%s: %q", s, ch.New)
	case inject.Removed:
		return fmt.Sprintf("%s: %q", s, ch.Old)
	}
	return fmt.Sprintf("%s: %q -> %q", s, ch.Old, ch.New)
}

// line prints a line, above the progress bar when it goes to the bar's
// writer.
func (r *reporter) line(w io.Writer, format string, args ...any) {
	fmt.Fprintf(r.bar.Lines(w), format, args...)
}

// describe returns the text of err for the file path: the error as it
// is, except that a *fs.PathError about path itself leaves out the path
// the line already starts with.
func describe(path string, err error) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok && error(pe) == err && pe.Path == path {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}
