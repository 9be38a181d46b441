package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// enumerate sends every input of the run to emit, in order: the PATH
// arguments, then the lines of --files-from. Directories are walked with
// -r. It stops early when emit returns false.
func (c *config) enumerate(stdin io.Reader, emit func(job) bool, wantSize bool) {
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
	var r io.Reader = stdin
	if c.filesFrom != "-" {
		f, err := os.Open(c.filesFrom)
		if err != nil {
			emit(job{path: c.filesFrom, err: fmt.Errorf("--files-from: %w", err)})
			return
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		p := strings.TrimSuffix(sc.Text(), "\r")
		if p == "" {
			continue
		}
		if !c.add(p, emit, wantSize) {
			return
		}
	}
	if err := sc.Err(); err != nil {
		emit(job{path: c.filesFrom, err: fmt.Errorf("--files-from: %w", err)})
	}
}

// add sends the input p named by the user, or the files under it.
func (c *config) add(p string, emit func(job) bool, wantSize bool) bool {
	if p == "-" {
		return emit(job{path: p})
	}
	fi, err := os.Stat(p)
	if err != nil {
		return emit(c.mapOut(job{path: p, err: err}))
	}
	if !fi.IsDir() {
		return emit(c.mapOut(job{path: p, size: fi.Size()}))
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
		} else if !c.hasExt(d.Name()) {
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
			ok = emit(c.mapOut(j))
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
// under the output directory.
func (c *config) mapOut(j job) job {
	if c.outDir == "" || j.err != nil {
		return j
	}
	if !filepath.IsLocal(j.path) {
		j.err = fmt.Errorf("-o mirrors relative paths: %s is absolute or leaves the current directory", j.path)
		return j
	}
	j.out = filepath.Clean(j.path)
	return j
}

func (c *config) hasExt(name string) bool {
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
