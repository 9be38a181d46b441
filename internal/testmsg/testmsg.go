// Package testmsg holds what the tests of several sesmime packages share:
// readers that misbehave in set ways, and fuzz seeds from the public corpus.
// It is imported only by tests.
package testmsg

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// SharedCorpus is the shared public corpus, relative to the repository
// root: beside the clone, where .ci/run points SESMIME_CORPUS.
const SharedCorpus = "../shared/corpus/public"

// AddSeeds adds every file matching glob to f's seed corpus, each cut to
// max bytes: the header is what the targets work on, and the fuzzer
// minimises every new input, which takes long on large seeds. The files are
// read in place, never copied.
func AddSeeds(f *testing.F, glob string, max int) {
	files, _ := filepath.Glob(glob)
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), max)])
	}
}

// AddCorpusSeeds adds the *.eml messages of SharedCorpus to f's seed
// corpus, each cut to max bytes, from a package folder depth levels below
// the repository root; none when the corpus is not beside the clone.
func AddCorpusSeeds(f *testing.F, depth, max int) {
	f.Helper()
	AddSeeds(f, filepath.Join(fromRoot(f, depth, SharedCorpus), "*.eml"), max)
}

// fromRoot resolves a path relative to the repository root from a package
// folder depth levels below it. A wrong depth fails the test: it would
// resolve to a folder that is not there and silently leave the test
// without its files.
func fromRoot(t testing.TB, depth int, path string) string {
	t.Helper()
	if filepath.IsAbs(path) {
		return path
	}
	up := slices.Repeat([]string{".."}, depth)
	if _, err := os.Stat(filepath.Join(append(up, "go.work")...)); err != nil {
		t.Fatalf("testmsg: %d levels up is not the repository root (no go.work): %v", depth, err)
	}
	return filepath.Join(append(up, path)...)
}

// CorpusDir returns the folder named by SESMIME_CORPUS, a relative one
// resolved against the repository root from a package folder depth levels
// below it. The test is skipped, saying why, when the variable is unset or
// the folder does not exist (a clone without the shared corpus beside it).
func CorpusDir(t testing.TB, depth int) string {
	t.Helper()
	env := os.Getenv("SESMIME_CORPUS")
	if env == "" {
		t.Skip("corpus test skipped: SESMIME_CORPUS is not set (set it to a folder of messages; .ci/run uses ../shared/corpus/public)")
	}
	dir := fromRoot(t, depth, env)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Skipf("corpus test skipped: SESMIME_CORPUS=%s: no such folder here (%s)", env, dir)
	}
	return dir
}

// CorpusFiles returns the messages of the folder named by SESMIME_CORPUS:
// its regular files other than dot files, README.md, SOURCES.md and
// MANIFEST.tsv. A relative folder is resolved against the repository root,
// from a package folder one level below it. The test is skipped when the
// variable is unset, and fails when the folder holds no messages.
func CorpusFiles(t testing.TB) []string {
	t.Helper()
	dir := CorpusDir(t, 1)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("SESMIME_CORPUS: %v", err)
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if e.Type().IsRegular() && !strings.HasPrefix(name, ".") && name != "README.md" && name != "SOURCES.md" && name != "MANIFEST.tsv" {
			files = append(files, filepath.Join(dir, name))
		}
	}
	if len(files) == 0 {
		t.Fatalf("SESMIME_CORPUS=%s holds no messages", dir)
	}
	return files
}

// ErrAfter is a reader that returns Data, then Err instead of the bytes after N.
type ErrAfter struct {
	Data []byte
	N    int
	Err  error
}

// Read returns the bytes of Data up to N, then Err.
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

// Read returns 0, nil.
func (ZeroReader) Read([]byte) (int, error) { return 0, nil }
