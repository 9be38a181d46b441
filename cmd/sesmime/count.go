package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sesmime/sesmime/internal/progress"
)

// A tally counts the inputs of a run ahead of the run, in a pass of its
// own over the same PATHs and --files-from names, so the progress bar can
// show done/total and a true percentage, and the summary of an interrupted
// run can say how many files it did not reach.
//
// The count and the run list the inputs in the same order, and each input's
// size is taken from whichever lists it first: a count that falls behind
// the run (a busy machine) would otherwise find the files the run has
// rewritten in place at their new size, and the bar of a finished run would
// stop short of 100%.
type tally struct {
	files   atomic.Int64
	known   atomic.Bool   // the count is complete
	stopped atomic.Bool   // set by finish: the count gives up
	spool   *spool        // the --files-from list, read once
	done    chan struct{} // closed when the count has ended

	mu      sync.Mutex // guards what follows
	bytes   int64      // of the inputs listed so far, by the count or the run
	counted int        // inputs the count has listed
	listed  int        // inputs the run has listed
}

// openList starts reading the names of the --files-from list, once, into
// c.spool, which the run and its count take from at their own pace, so a
// pipe (stdin, find's output) serves both and the run starts before the
// list ends.
func (c *config) openList(stdin io.Reader) {
	if c.filesFrom == "" {
		return
	}
	s := new(spool)
	s.more.L = &s.mu
	c.spool = s
	r := stdin
	if c.filesFrom != "-" {
		f, err := os.Open(c.filesFrom)
		if err != nil {
			s.err = err // enumerate reports it
			return
		}
		r = f
	}
	sep := byte('\n')
	if c.null {
		sep = 0
	}
	go func() {
		s.fill(r, sep)
		if r != stdin {
			r.(*os.File).Close()
		}
	}()
}

// countAhead starts counting the inputs of c. The count is given to bar
// when complete. It goes on after a signal, so the summary can say how
// many files were not reached; finish bounds the wait for it.
func (c *config) countAhead(bar *progress.Bar) *tally {
	t := &tally{done: make(chan struct{}), spool: c.spool}
	cc := *c
	cc.list = new(listing)
	go func() {
		defer close(t.done)
		cc.enumerate(func(j job) bool {
			if t.stopped.Load() {
				return false
			}
			t.add(j.size)
			return true
		}, bar != nil)
		if !t.stopped.Load() && !t.spool.cut() {
			t.known.Store(true)
			t.mu.Lock()
			bar.SetTotal(t.files.Load(), t.bytes)
			t.mu.Unlock()
		}
	}()
	return t
}

// add counts the next input, of size bytes unless the run listed it first.
func (t *tally) add(size int64) {
	t.files.Add(1)
	t.mu.Lock()
	if t.counted >= t.listed {
		t.bytes += size
	}
	t.counted++
	t.mu.Unlock()
}

// list records the run's next input, of size bytes (as the run's own pass
// found it, before rewriting it), for a count that has not reached it yet.
func (t *tally) list(size int64) {
	if t == nil {
		return
	}
	t.mu.Lock()
	if t.listed >= t.counted {
		t.bytes += size
	}
	t.listed++
	t.mu.Unlock()
}

// finish waits for the count, at most maxCountWait, then stops it. The
// part of a --files-from list not read by now is not waited for.
func (t *tally) finish() {
	if t == nil {
		return
	}
	if t.spool != nil {
		t.spool.close() // a count waiting for more of the list stops
	}
	select {
	case <-t.done:
	case <-time.After(maxCountWait):
	}
	t.stopped.Store(true)
}

// maxCountWait bounds how long a run that has finished (or was stopped)
// waits for the count of its inputs, so that a signal still ends a run
// within a second.
const maxCountWait = 250 * time.Millisecond

// A spool holds the names of a --files-from list read so far.
type spool struct {
	mu    sync.Mutex
	more  sync.Cond // broadcast when names or err change
	names []string
	err   error // what ended the list: io.EOF, a read error, or context.Canceled from close
}

// maxName bounds a --files-from name, so a list without separators ends
// in an error rather than in memory.
const maxName = 1 << 20

// fill reads the names in r, each ending in sep (the last one may not),
// into s until r or s ends.
func (s *spool) fill(r io.Reader, sep byte) {
	br := bufio.NewReaderSize(r, maxName)
	for {
		// Names are taken verbatim: a CR or a space is part of the name.
		line, err := br.ReadSlice(sep)
		if err == bufio.ErrBufferFull {
			line, err = nil, errors.New("a name longer than 1 MiB")
		}
		name := strings.TrimSuffix(string(line), string(sep))
		s.mu.Lock()
		if name != "" {
			s.names = append(s.names, name)
		}
		if err != nil && s.err == nil {
			s.err = err
		}
		done := s.err != nil
		s.more.Broadcast()
		s.mu.Unlock()
		if done {
			return
		}
	}
}

// name returns name i of the list, waiting for it, or the error that
// ended the list before it.
func (s *spool) name(i int) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i >= len(s.names) && s.err == nil {
		s.more.Wait()
	}
	if i < len(s.names) {
		return s.names[i], nil
	}
	return "", s.err
}

// close ends the spool for its readers; fill's later reads are dropped.
func (s *spool) close() {
	s.mu.Lock()
	if s.err == nil {
		s.err = context.Canceled
	}
	s.more.Broadcast()
	s.mu.Unlock()
}

// cut reports whether close ended s before its list did.
func (s *spool) cut() bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err == context.Canceled
}

// total returns the number of inputs counted, and whether the count is
// complete.
func (t *tally) total() (int, bool) {
	if t == nil || !t.known.Load() {
		return 0, false
	}
	return int(t.files.Load()), true
}

// stopSummary is the line that ends a run stopped by ctx's signal after
// done of its inputs: "stopped by SIGINT after 64 of 7,068 files; the
// other 7,004 are untouched".
func stopSummary(ctx context.Context, done int, t *tally) string {
	msg := "stopped"
	if in, ok := errors.AsType[interrupted](context.Cause(ctx)); ok {
		msg = in.Error()
	}
	if total, ok := t.total(); ok && total >= done {
		msg += " after " + itoa(done) + " of " + plural(total, "file")
		if rest := total - done; rest == 1 {
			msg += "; the other one is untouched"
		} else if rest > 1 {
			msg += "; the other " + itoa(rest) + " are untouched"
		}
		return msg
	}
	return msg + " after " + plural(done, "file") + "; the files not reached are untouched"
}
