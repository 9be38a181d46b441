package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// A job is one input of a run, numbered in input order.
type job struct {
	seq  int
	path string // the input as named, or "-" for stdin
	out  string // with -o: the output path relative to the output directory
	size int64  // input size when known, for the progress bar
	// regular is set for a file found by walking a directory: it was a
	// regular file, not a symbolic link, when the directory was read.
	regular bool
	note    string // the input is skipped for this reason
	err     error  // the input could not be listed
}

// errIsDir is the error for a directory named without -r.
var errIsDir = errors.New("is a directory (use -r to recurse)")

// A listing is what one pass over the inputs counts besides the jobs: the
// files a walk passed over, and the outputs already given out under -o.
type listing struct {
	notExt atomic.Int64 // files whose name lacks every --ext
	dot    atomic.Int64 // dotfiles
	outs   map[string]string
}

// skipped describes the files the run passed over, "" when none: "12
// skipped: not *.eml, 2 dotfiles"; irregular is the number of inputs that
// were not regular files.
func (l *listing) skipped(exts []string, irregular int) string {
	var parts []string
	if n := l.notExt.Load(); n > 0 {
		pats := make([]string, len(exts))
		for i, e := range exts {
			pats[i] = "*" + e
		}
		parts = append(parts, "not "+strings.Join(pats, " or "))
	}
	if n := l.dot.Load(); n > 0 {
		parts = append(parts, plural(n, "dotfile"))
	}
	if irregular > 0 {
		parts = append(parts, itoa(irregular)+" not regular")
	}
	if len(parts) == 0 {
		return ""
	}
	return itoa(l.notExt.Load()+l.dot.Load()+int64(irregular)) + " skipped: " + strings.Join(parts, ", ")
}

// enumerate sends every input of the run to emit, in order: the PATH
// arguments, then the names in --files-from. Directories are walked with
// -r. It stops early when emit returns false. What the walk passes over
// is counted in c.list.
func (c *config) enumerate(emit func(job) bool, wantSize bool) {
	if len(c.paths) == 0 && c.filesFrom == "" {
		emit(job{path: "-"})
		return
	}
	for _, p := range c.paths {
		if !c.add(p, emit, wantSize) {
			return
		}
	}
	if c.filesFrom == "" {
		return
	}
	for i := 0; ; i++ {
		p, err := c.spool.name(i)
		if err == io.EOF {
			return
		}
		if err != nil {
			emit(job{path: c.filesFrom, err: fmt.Errorf("--files-from: %w", err)})
			return
		}
		if !c.add(p, emit, wantSize) {
			return
		}
	}
}

// add sends the input p named by the user, or the files under it.
func (c *config) add(p string, emit func(job) bool, wantSize bool) bool {
	if p == "-" {
		return emit(job{path: p})
	}
	fi, err := os.Stat(p)
	if err != nil {
		return emit(job{path: p, err: err})
	}
	if !fi.IsDir() {
		return emit(c.mapOut(job{path: p, size: fi.Size()}, ""))
	}
	if !c.recursive {
		return emit(job{path: p, err: errIsDir})
	}
	if c.outDir != "" && contains(p, c.outDir) {
		return emit(job{path: p, err: fmt.Errorf("output directory %s is inside this input directory", c.outDir)})
	}
	ok := true
	root := p
	if li, err := os.Lstat(p); err == nil && li.Mode()&fs.ModeSymlink != 0 {
		root = p + string(filepath.Separator) // a directory named by the user is followed
	}
	werr := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			ok = emit(job{path: path, err: err})
		} else if d.IsDir() {
			return nil
		} else if strings.HasPrefix(d.Name(), ".") {
			c.list.dot.Add(1) // Maildir's rule: dotfiles are not messages
			return nil
		} else if !c.hasExt(d.Name()) {
			c.list.notExt.Add(1)
			return nil
		} else if !d.Type().IsRegular() {
			ok = emit(job{path: path, note: "not a regular file (" + typeName(d.Type()) + ")"})
		} else {
			j := job{path: path, regular: true}
			if wantSize {
				if info, err := d.Info(); err == nil {
					j.size = info.Size()
				}
			}
			ok = emit(c.mapOut(j, root))
		}
		if !ok {
			return filepath.SkipAll
		}
		if err != nil && d != nil && d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	})
	if werr != nil && ok {
		ok = emit(job{path: p, err: werr})
	}
	return ok
}

// mapOut sets j.out for -o, or fails j when its path cannot be mirrored
// under the output directory. A file found under the directory argument
// base goes to its path relative to base; a file named directly to its
// path relative to the current directory, or for an absolute path to that
// path without its leading separator. Two inputs with one output fail the
// second.
func (c *config) mapOut(j job, base string) job {
	if c.outDir == "" || j.err != nil {
		return j
	}
	switch {
	case base != "":
		rel, err := filepath.Rel(base, j.path)
		if err != nil {
			j.err = err
			return j
		}
		j.out = rel
	case filepath.IsAbs(j.path):
		j.out = strings.TrimLeft(filepath.Clean(j.path), string(filepath.Separator))
	case filepath.IsLocal(j.path):
		j.out = filepath.Clean(j.path)
	default:
		j.err = fmt.Errorf("-o cannot mirror a path that leaves the current directory; name its directory with -r, or give it as an absolute path")
		return j
	}
	if c.list.outs == nil {
		c.list.outs = make(map[string]string)
	}
	if prev, dup := c.list.outs[j.out]; dup {
		j.err = fmt.Errorf("output %s is also the output of %s", filepath.Join(c.outDir, j.out), prev)
		return j
	}
	c.list.outs[j.out] = j.path
	return j
}

// hasExt reports whether name ends in one of c.exts and is more than
// that; with no exts (--all-files), whether it is any name.
func (c *config) hasExt(name string) bool {
	if c.exts == nil {
		return true
	}
	name = strings.ToLower(name)
	for _, e := range c.exts {
		if strings.HasSuffix(name, e) && len(name) > len(e) {
			return true
		}
	}
	return false
}

func typeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "irregular"
}

// contains reports whether target is dir or lies under it, comparing
// absolute paths with symbolic links resolved where they exist.
func contains(dir, target string) bool {
	d, t := realPath(dir), realPath(target)
	if d == t {
		return true
	}
	rel, err := filepath.Rel(d, t)
	return err == nil && filepath.IsLocal(rel)
}

// realPath returns p absolute, with the symbolic links of its longest
// existing prefix resolved.
func realPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	var rest []string
	for cur := abs; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(append([]string{r}, rest...)...)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs
		}
		rest = append([]string{filepath.Base(cur)}, rest...)
		cur = parent
	}
}
