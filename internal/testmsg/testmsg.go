// Package testmsg holds what the tests of several sesmime packages share:
// readers that misbehave in set ways, and fuzz seeds from the public corpus.
// It is imported only by tests.
package testmsg

import (
	"os"
	"path/filepath"
	"testing"
)

// CorpusGlob matches the shared public corpus from a package folder one level
// below the repository root. The files are read in place, never copied.
const CorpusGlob = "../../shared/corpus/public/*.eml"

// AddCorpusSeeds adds every file matching glob to f's seed corpus, each cut
// to max bytes: the header is what the targets work on, and the fuzzer
// minimises every new input, which takes long on large seeds.
func AddCorpusSeeds(f *testing.F, glob string, max int) {
	files, _ := filepath.Glob(glob)
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), max)])
	}
}

// ErrAfter is a reader that returns Data, then Err instead of the bytes after N.
type ErrAfter struct {
	Data []byte
	N    int
	Err  error
}

func (r *ErrAfter) Read(p []byte) (int, error) {
	if r.N <= 0 {
		return 0, r.Err
	}
	k := copy(p[:min(len(p), r.N)], r.Data)
	r.Data, r.N = r.Data[k:], r.N-k
	return k, nil
}

// ZeroReader always returns 0, nil.
type ZeroReader struct{}

func (ZeroReader) Read([]byte) (int, error) { return 0, nil }
