package main

import (
	"os"
	"sync"
)

// maxPooled bounds the temporary files a run keeps for reuse, and so the
// old messages it keeps on disk until the run ends.
const maxPooled = 4 * maxBatch

// A tempPool keeps temporary files for reuse, by directory. With -i a
// rewritten message is exchanged with its original (renameat2
// RENAME_EXCHANGE) rather than renamed over it, so the temporary name then
// holds the original's inode; once the exchange is durable that inode is
// overwritten as the temporary file of a later message in the directory.
// On file systems such as ext4 without a journal, allocating and freeing an
// inode per message costs more than the rewrite itself.
type tempPool struct {
	mu    sync.Mutex
	byDir map[string][]string // directory → temporary file paths
	n     int
	last  string // the directory of the latest put
}

// get takes a temporary file path of dir, if the pool has one.
func (tp *tempPool) get(dir string) (string, bool) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	names := tp.byDir[dir]
	if len(names) == 0 {
		return "", false
	}
	name := names[len(names)-1]
	tp.byDir[dir] = names[:len(names)-1]
	tp.n--
	return name, true
}

// takeOther takes a temporary file path of a directory other than dir,
// preferring one other than the latest put's, which a worker may still be
// in.
func (tp *tempPool) takeOther(dir string) (string, bool) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	from, found := "", false
	for other, names := range tp.byDir {
		if other != dir && len(names) > 0 && (!found || from == tp.last) {
			from, found = other, true
		}
	}
	if !found {
		return "", false
	}
	names := tp.byDir[from]
	name := names[len(names)-1]
	if len(names) == 1 {
		delete(tp.byDir, from)
	} else {
		tp.byDir[from] = names[:len(names)-1]
	}
	tp.n--
	return name, true
}

// put keeps the temporary file path of dir for reuse, or reports false
// when the pool is full of dir's files. When it is full with other
// directories' files, those of one of them are removed first: a run
// usually goes through a tree a directory at a time.
func (tp *tempPool) put(dir, name string) bool {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if tp.byDir == nil {
		tp.byDir = make(map[string][]string)
	}
	if tp.n >= maxPooled {
		tp.dropOther(dir)
		if tp.n >= maxPooled {
			return false
		}
	}
	tp.byDir[dir] = append(tp.byDir[dir], name)
	tp.n++
	tp.last = dir
	return true
}

// dropOther removes the files of a directory other than dir, preferring
// one other than the latest put's, which a worker may still be in.
func (tp *tempPool) dropOther(dir string) {
	victim, found := "", false
	for other := range tp.byDir {
		if other != dir && (!found || victim == tp.last) {
			victim, found = other, true
		}
	}
	if !found {
		return
	}
	for _, name := range tp.byDir[victim] {
		os.Remove(name)
	}
	tp.n -= len(tp.byDir[victim])
	delete(tp.byDir, victim)
}

// drain removes every temporary file in the pool.
func (tp *tempPool) drain() error {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var first error
	for dir, names := range tp.byDir {
		for _, name := range names {
			if err := os.Remove(name); err != nil && first == nil {
				first = err
			}
		}
		delete(tp.byDir, dir)
	}
	tp.n = 0
	return first
}
