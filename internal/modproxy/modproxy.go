package modproxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

// A Module is one version of a module to serve: the tree in Dir, which
// holds its go.mod, served as Path@Version.
type Module struct {
	Path    string
	Version string
	Dir     string
}

// Write adds mods to the file proxy rooted at dir, creating dir as needed:
// for each, dir/ESCAPED-PATH/@v/ gets VERSION.info, VERSION.mod,
// VERSION.zip and the version in its list file.
func Write(dir string, mods ...Module) error {
	now := time.Now().UTC().Format(time.RFC3339)
	for _, m := range mods {
		v := module.Version{Path: m.Path, Version: m.Version}
		if err := module.Check(m.Path, m.Version); err != nil {
			return err
		}
		escPath, err := module.EscapePath(m.Path)
		if err != nil {
			return err
		}
		escVer, err := module.EscapeVersion(m.Version)
		if err != nil {
			return err
		}
		vdir := filepath.Join(dir, filepath.FromSlash(escPath), "@v")
		if err := os.MkdirAll(vdir, 0o755); err != nil {
			return err
		}
		base := filepath.Join(vdir, escVer)
		gomod, err := os.ReadFile(filepath.Join(m.Dir, "go.mod"))
		if err != nil {
			return fmt.Errorf("%s: %w", v, err)
		}
		if err := os.WriteFile(base+".mod", gomod, 0o644); err != nil {
			return err
		}
		info, _ := json.Marshal(struct{ Version, Time string }{m.Version, now})
		if err := os.WriteFile(base+".info", info, 0o644); err != nil {
			return err
		}
		if err := writeZip(base+".zip", v, m.Dir); err != nil {
			return fmt.Errorf("%s: %w", v, err)
		}
		if err := addToList(filepath.Join(vdir, "list"), m.Version); err != nil {
			return err
		}
	}
	return nil
}

func writeZip(name string, v module.Version, dir string) (err error) {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	return zip.CreateFromDir(f, v, dir)
}

func addToList(name, version string) error {
	b, err := os.ReadFile(name)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	list := strings.Fields(string(b))
	if slices.Contains(list, version) {
		return nil
	}
	list = append(list, version)
	return os.WriteFile(name, []byte(strings.Join(list, "\n")+"\n"), 0o644)
}
