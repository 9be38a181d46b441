package modproxy_test

import (
	"debug/buildinfo"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"

	"github.com/sesmime/sesmime/internal/modproxy"
)

// defaultVersion is the version a module is served at when no other
// module of the repository requires it.
const defaultVersion = "v0.1.0"

// A localModule is one module of the repository's go.work.
type localModule struct {
	dir  string
	file *modfile.File
}

// repoModules reads the modules that root's go.work uses.
func repoModules(t *testing.T, root string) []localModule {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		t.Fatal(err)
	}
	work, err := modfile.ParseWork("go.work", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mods []localModule
	for _, u := range work.Use {
		dir := filepath.Join(root, filepath.FromSlash(u.Path))
		name := filepath.Join(dir, "go.mod")
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := modfile.Parse(name, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		mods = append(mods, localModule{dir: dir, file: f})
	}
	return mods
}

// commands returns the import paths of the commands in m: the main
// packages in a directory cmd/NAME (bench tools and the like are not for
// installing), leaving out nested modules, testdata and directories the go
// command ignores.
func commands(t *testing.T, m localModule) []string {
	t.Helper()
	var cmds []string
	err := filepath.WalkDir(m.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if p != m.dir {
			n := d.Name()
			if n == "testdata" || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir
			}
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return err
		}
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p, n), nil, parser.PackageClauseOnly)
			if err != nil {
				return err
			}
			if f.Name.Name == "main" && filepath.Base(filepath.Dir(p)) == "cmd" {
				rel, _ := filepath.Rel(m.dir, p)
				cmds = append(cmds, path.Join(m.file.Module.Mod.Path, filepath.ToSlash(rel)))
			}
			break
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return cmds
}

// TestInstall serves every module of the repository, as it is in the
// working tree, from a file proxy at the versions the modules require of
// each other, and installs every command from it with `go install
// PATH@VERSION` as a user would: no workspace, no network (third-party
// modules come from the local module cache).
func TestInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every command; skipped with -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	mods := repoModules(t, root)
	local := map[string]bool{}
	for _, m := range mods {
		local[m.file.Module.Mod.Path] = true
	}

	// Versions: each module at every version another one requires,
	// and released at the highest of them.
	versions := map[string][]string{}
	for _, m := range mods {
		for _, r := range m.file.Replace {
			t.Errorf("%s: replace %s: a released module must not have replace directives (go install PATH@VERSION refuses them); use go.work", m.file.Syntax.Name, r.Old.Path)
		}
		for _, r := range m.file.Require {
			if local[r.Mod.Path] && !slices.Contains(versions[r.Mod.Path], r.Mod.Version) {
				versions[r.Mod.Path] = append(versions[r.Mod.Path], r.Mod.Version)
			}
		}
	}
	release := map[string]string{}
	var served []modproxy.Module
	for _, m := range mods {
		p := m.file.Module.Mod.Path
		vs := versions[p]
		if len(vs) == 0 {
			vs = []string{defaultVersion}
		}
		semver.Sort(vs)
		release[p] = vs[len(vs)-1]
		for _, v := range vs {
			served = append(served, modproxy.Module{Path: p, Version: v, Dir: m.dir})
		}
	}
	tmp := t.TempDir()
	proxy := filepath.Join(tmp, "proxy")
	if err := modproxy.Write(proxy, served...); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(gobin, "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(strings.TrimSpace(string(out)), "cache", "download")
	bin := filepath.Join(tmp, "bin")
	env := append(os.Environ(),
		"GOPROXY=file://"+filepath.ToSlash(proxy)+",file://"+filepath.ToSlash(cache),
		"GOSUMDB=off", "GONOSUMDB=", "GOPRIVATE=", "GONOPROXY=", "GOINSECURE=",
		"GOWORK=off", "GOTOOLCHAIN=local", "GOBIN="+bin,
		// A module cache of its own, so no stale copy of ours is used
		// or left behind; -trimpath keeps build-cache hits across runs.
		"GOMODCACHE="+filepath.Join(tmp, "modcache"),
		"GOFLAGS=-mod=mod -modcacherw -trimpath",
	)

	n := 0
	for _, m := range mods {
		mpath := m.file.Module.Mod.Path
		for _, cmd := range commands(t, m) {
			n++
			arg := cmd + "@" + release[mpath]
			t.Run(path.Base(cmd), func(t *testing.T) {
				c := exec.Command(gobin, "install", arg)
				c.Dir = tmp
				c.Env = env
				if out, err := c.CombinedOutput(); err != nil {
					t.Fatalf("go install %s: %v\n%s", arg, err, out)
				}
				exe := filepath.Join(bin, path.Base(cmd))
				bi, err := buildinfo.ReadFile(exe)
				if err != nil {
					t.Fatal(err)
				}
				if bi.Main.Path != mpath || bi.Main.Version != release[mpath] {
					t.Errorf("%s: main module %s@%s, want %s@%s", exe, bi.Main.Path, bi.Main.Version, mpath, release[mpath])
				}
				for _, d := range bi.Deps {
					if d.Replace != nil {
						t.Errorf("%s: dependency %s@%s replaced by %s", exe, d.Path, d.Version, d.Replace.Path)
					}
					if local[d.Path] && !slices.Contains(versions[d.Path], d.Version) {
						t.Errorf("%s: dependency %s@%s, want a version that a go.mod requires (%v)", exe, d.Path, d.Version, versions[d.Path])
					}
				}
			})
		}
	}
	for _, want := range []string{"sesmime", "sesmime-send"} {
		if _, err := os.Stat(filepath.Join(bin, want)); err != nil && !t.Failed() {
			t.Errorf("command %s was not found or installed (%d commands)", want, n)
		}
	}
}
