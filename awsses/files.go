package awsses

import (
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
)

// Files returns the messages in paths, read one at a time as the sequence
// is consumed. A path that is a directory is walked in lexical order for
// regular files whose names end in one of exts (all files if exts is
// empty); symbolic links inside it are not followed. A path that is a file
// is read whatever its name. A path that cannot be read yields a Message
// with Err set.
func Files(paths []string, exts ...string) iter.Seq[Message] {
	return func(yield func(Message) bool) {
		for _, p := range paths {
			fi, err := os.Stat(p)
			if err != nil {
				if !yield(Message{Name: p, Err: err}) {
					return
				}
				continue
			}
			if !fi.IsDir() {
				if !yield(readFile(p)) {
					return
				}
				continue
			}
			stop := false
			err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					if !yield(Message{Name: path, Err: err}) {
						stop = true
						return fs.SkipAll
					}
					return nil
				}
				if !d.Type().IsRegular() || !hasExt(path, exts) {
					return nil
				}
				if !yield(readFile(path)) {
					stop = true
					return fs.SkipAll
				}
				return nil
			})
			if stop {
				return
			}
			if err != nil && !yield(Message{Name: p, Err: err}) {
				return
			}
		}
	}
}

func readFile(path string) Message {
	b, err := os.ReadFile(path)
	return Message{Name: path, Data: b, Err: err}
}

func hasExt(path string, exts []string) bool {
	if len(exts) == 0 {
		return true
	}
	for _, e := range exts {
		if strings.HasSuffix(path, e) {
			return true
		}
	}
	return false
}
