package main

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A tally counts the inputs of a run ahead of the run, in a pass of its
// own over the same PATHs and --files-from names, so the progress bar can
// show done/total and a true percentage, and the summary of an interrupted
// run can say how many files it did not reach.
type tally struct {
	files, bytes atomic.Int64
	known        atomic.Bool // the count is complete
	spool        *spool      // the --files-from list, read once
	stop         context.CancelFunc
	done         chan struct{} // closed when the count has ended
}

// openList starts reading the --files-from list, once, into a spool that
// the run and its count read at their own pace, so a pipe (stdin, find's
// output) serves both and the run starts before the list ends.
func (c *config) openList(stdin io.Reader) {
	if c.filesFrom == "" {
		return
	}
	r := stdin
	if c.filesFrom != "-" {
		f, err := os.Open(c.filesFrom)
		if err != nil {
			c.listErr = err // enumerate reports it
			return
		}
		r = f
	}
	c.spool = newSpool()
	go func() {
		c.spool.fill(r)
		if r != stdin {
			r.(*os.File).Close()
		}
	}()
}

// countAhead starts counting the inputs of c. The count is given to bar
// when complete.
func (c *config) countAhead(ctx context.Context, bar *progress) *tally {
	t := &tally{done: make(chan struct{}), spool: c.spool}
	// The count goes on after a signal, so the summary can say how many
	// files were not reached; finish bounds the wait for it.
	ctx, t.stop = context.WithCancel(context.WithoutCancel(ctx))
	cc := *c
	cc.list = new(listing)
	go func() {
		defer close(t.done)
		cc.enumerate(func(j job) bool {
			if ctx.Err() != nil {
				return false
			}
			t.files.Add(1)
			t.bytes.Add(j.size)
			return true
		}, bar != nil)
		if ctx.Err() == nil && !t.spool.cut() {
			t.known.Store(true)
			bar.setTotal(t.files.Load(), t.bytes.Load())
		}
	}()
	return t
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
	t.stop()
}

// maxCountWait bounds how long a run that has finished (or was stopped)
// waits for the count of its inputs, so that a signal still ends a run
// within a second.
const maxCountWait = 250 * time.Millisecond

// A spool holds what has been read of a --files-from list, for two
// readers at their own pace.
type spool struct {
	mu   sync.Mutex
	cond *sync.Cond
	data []byte
	err  error // io.EOF or the read error, once the list has ended
}

func newSpool() *spool {
	s := new(spool)
	s.cond = sync.NewCond(&s.mu)
	return s
}

// fill reads r to its end into s.
func (s *spool) fill(r io.Reader) {
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		s.mu.Lock()
		s.data = append(s.data, buf[:n]...)
		if err != nil && s.err == nil {
			s.err = err
		}
		done := s.err != nil
		s.cond.Broadcast()
		s.mu.Unlock()
		if done {
			return
		}
	}
}

// close ends the spool for its readers; fill's later reads are dropped.
func (s *spool) close() {
	s.mu.Lock()
	if s.err == nil {
		s.err = context.Canceled
	}
	s.cond.Broadcast()
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

// A spoolReader reads a spool from the start, waiting for more until the
// list has ended.
type spoolReader struct {
	s   *spool
	off int
}

func (r *spoolReader) Read(p []byte) (int, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for r.off == len(s.data) && s.err == nil {
		s.cond.Wait()
	}
	if r.off < len(s.data) {
		n := copy(p, s.data[r.off:])
		r.off += n
		return n, nil
	}
	return 0, s.err
}

// total returns the number of inputs counted, and whether the count is
// complete.
func (t *tally) total() (int, bool) {
	if t == nil || !t.known.Load() {
		return 0, false
	}
	return int(t.files.Load()), true
}

// signalName returns the conventional name of the signal that stopped a
// run: SIGINT, SIGTERM.
func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
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
