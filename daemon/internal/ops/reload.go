package ops

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
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

// ReloadAll reloads the rules, for Run: the rules are all that a daemon
// without other reloadable files (the milter) reloads on SIGHUP.
func (r *Rules) ReloadAll() []Reloaded {
	if err := r.Reload(); err != nil {
		return []Reloaded{{What: ReloadRules, Err: err, Msg: fmt.Sprintf("rules not reloaded, the old rules stay: %v", err)}}
	}
	return []Reloaded{{What: ReloadRules, Msg: fmt.Sprintf("rules reloaded from %s: %d rules", r.path, r.Get().Len())}}
}

// What a Reloaded is about; each is counted by its own metric.
const (
	ReloadRules = "rules"       // rules_reloads_total{result}
	ReloadCert  = "certificate" // cert_reloads_total{listener,result}
	ReloadUsers = "users"       // users_reloads_total{result}
)

// A Reloaded is the outcome of reloading one item.
type Reloaded struct {
	What     string // ReloadRules, ReloadCert or ReloadUsers
	Listener string // the listener whose certificate it is, for ReloadCert
	Msg      string // for the log: what is in use now, or what failed and that the old one stays
	Err      error  // nil: reloaded; otherwise the old one is still in use
}

// Name is how the log's reloaded and failed fields name the item:
// "rules", "users" or "listener NAME certificate".
func (r *Reloaded) Name() string {
	if r.What == ReloadCert {
		return "listener " + r.Listener + " certificate"
	}
	return r.What
}

// A Reloader is what SIGHUP reloads. ReloadAll loads each of its items
// (files) completely and validates it before it replaces the one in use,
// and reloads each independently: one that fails keeps its old value and
// does not stop the others.
type Reloader interface {
	ReloadAll() []Reloaded
}

// Reload is what Run does on SIGHUP: it reloads rl's items, counts each
// by result ("ok", "error") and writes one "reload" line naming what was
// reloaded and what was not, and why.
func Reload(rl Reloader, log *Log, m *Metrics) []Reloaded {
	rs := rl.ReloadAll()
	var msgs, ok []string
	var failed map[string]string
	for i := range rs {
		r := &rs[i]
		result := "ok"
		if r.Err != nil {
			result = "error"
			if failed == nil {
				failed = map[string]string{}
			}
			failed[r.Name()] = r.Err.Error()
		} else {
			ok = append(ok, r.Name())
		}
		switch r.What {
		case ReloadRules:
			m.Reloads.WithLabelValues(result).Inc()
		case ReloadCert:
			m.CertReloads.WithLabelValues(r.Listener, result).Inc()
		case ReloadUsers:
			m.UsersReloads.WithLabelValues(result).Inc()
		}
		msgs = append(msgs, r.Msg)
	}
	log.reload(strings.Join(msgs, "; "), ok, failed)
	return rs
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
// it returns, and the caller stops gracefully). On SIGHUP it reloads rl
// (Reload): an item that fails to load keeps the old one in use.
func (s *Signals) Run(ctx context.Context, rl Reloader, log *Log, m *Metrics) os.Signal {
	for {
		select {
		case <-ctx.Done():
			return nil
		case sig := <-s.ch:
			if sig != syscall.SIGHUP {
				return sig
			}
			Reload(rl, log, m)
		}
	}
}
