package ops

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/sesmime/sesmime"
	"github.com/sesmime/sesmime/rules"
)

// Rules holds the rule set in use and reloads it from its file. It is
// safe for concurrent use: Get never blocks on a reload.
type Rules struct {
	path   string
	extend func(*rules.Set) (*rules.Set, error)
	cur    atomic.Pointer[rules.Set]
}

// LoadRules loads the rules at path (none when path is ""). extend, if
// not nil, adjusts every loaded set (e.g. command-line defaults).
func LoadRules(path string, extend func(*rules.Set) (*rules.Set, error)) (*Rules, error) {
	r := &Rules{path: path, extend: extend}
	s, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cur.Store(s)
	return r, nil
}

// Defaults returns an extend function for LoadRules that gives each loaded
// set's [default] the command line's configuration set (when not "") and
// tags (when not nil). It applies them to the set just loaded, so a reload
// keeps the file's new default for everything else.
func Defaults(configSet string, tags []sesmime.Tag) func(*rules.Set) (*rules.Set, error) {
	return func(s *rules.Set) (*rules.Set, error) {
		if configSet == "" && tags == nil {
			return s, nil
		}
		a := s.Default()
		if configSet != "" {
			a.ConfigurationSet = configSet
		}
		if tags != nil {
			a.Tags = tags
		}
		return s.WithDefault(a)
	}
}

func (r *Rules) load() (*rules.Set, error) {
	s, err := rules.Parse("", nil)
	if r.path != "" {
		s, err = rules.Load(r.path)
	}
	if err != nil {
		return nil, err
	}
	if r.extend != nil {
		return r.extend(s)
	}
	return s, nil
}

// Get returns the rule set in use.
func (r *Rules) Get() *rules.Set { return r.cur.Load() }

// Reload reads the file again. On an error the rules in use stay and the
// error is returned.
func (r *Rules) Reload() error {
	s, err := r.load()
	if err != nil {
		return err
	}
	r.cur.Store(s)
	return nil
}

// Signals catches SIGHUP, SIGTERM and SIGINT from NotifySignals until
// Stop. A daemon makes it before it says it started, so that a signal sent
// as soon as the start line is out is handled, not lost or fatal.
type Signals struct{ ch chan os.Signal }

// NotifySignals starts catching the signals Run handles.
func NotifySignals() *Signals {
	s := &Signals{ch: make(chan os.Signal, 4)}
	signal.Notify(s.ch, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	return s
}

// Stop stops catching the signals (their default action applies again).
func (s *Signals) Stop() { signal.Stop(s.ch) }

// Run waits for signals until ctx ends or SIGTERM or SIGINT arrives (then
// it returns, and the caller stops gracefully). On SIGHUP it reloads rs,
// logging and counting the result; an invalid file keeps the old rules.
func (s *Signals) Run(ctx context.Context, rs *Rules, log *Log, m *Metrics) os.Signal {
	for {
		select {
		case <-ctx.Done():
			return nil
		case sig := <-s.ch:
			if sig != syscall.SIGHUP {
				return sig
			}
			if err := rs.Reload(); err != nil {
				m.Reloads.WithLabelValues("error").Inc()
				log.Event("reload", fmt.Sprintf("rules not reloaded, the old rules stay: %v", err))
				continue
			}
			m.Reloads.WithLabelValues("ok").Inc()
			log.Event("reload", fmt.Sprintf("rules reloaded from %s: %d rules", rs.path, rs.Get().Len()))
		}
	}
}
