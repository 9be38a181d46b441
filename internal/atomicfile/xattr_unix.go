//go:build linux || darwin

package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// control runs fn on the descriptor of f.
func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// listXattrs returns the names of the extended attributes of fd.
func listXattrs(fd int) ([]string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Flistxattr(fd, buf)
		switch {
		case errors.Is(err, unix.ERANGE):
			sz, err := unix.Flistxattr(fd, nil)
			if err != nil {
				return nil, err
			}
			buf = make([]byte, sz+64)
			continue
		case errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.EOPNOTSUPP):
			return nil, nil
		case err != nil:
			return nil, err
		}
		var names []string
		for _, name := range bytes.Split(buf[:n], []byte{0}) {
			if len(name) > 0 {
				names = append(names, string(name))
			}
		}
		return names, nil
	}
}

// getXattr returns the value of the attribute name of fd.
func getXattr(fd int, name string) ([]byte, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Fgetxattr(fd, name, buf)
		if errors.Is(err, unix.ERANGE) {
			sz, err := unix.Fgetxattr(fd, name, nil)
			if err != nil {
				return nil, err
			}
			buf = make([]byte, sz+64)
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}

// readXattrs returns every extended attribute of f that the process can
// see.
func readXattrs(f *os.File) (xs []Xattr, err error) {
	err = control(f, func(fd int) error {
		names, err := listXattrs(fd)
		for _, name := range names {
			v, err := getXattr(fd, name)
			if errors.Is(err, unix.ENODATA) {
				continue // removed meanwhile
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			xs = append(xs, Xattr{name, v})
		}
		return err
	})
	return xs, err
}

// setXattrs gives f exactly the attributes xs, leaving security labels it
// has and xs does not name alone.
func setXattrs(f *os.File, xs []Xattr) error {
	return control(f, func(fd int) error {
		have, err := listXattrs(fd)
		if err != nil {
			return fmt.Errorf("list extended attributes: %w", err)
		}
		if len(have) == 0 && len(xs) == 0 {
			return nil
		}
		want := make(map[string]bool, len(xs))
		for _, x := range xs {
			want[x.Name] = true
		}
		for _, name := range have {
			if want[name] || strings.HasPrefix(name, "security.") {
				continue
			}
			if err := unix.Fremovexattr(fd, name); err != nil && !errors.Is(err, unix.ENODATA) {
				return fmt.Errorf("remove extended attribute %s: %w", name, err)
			}
		}
		for _, x := range xs {
			if v, err := getXattr(fd, x.Name); err == nil && bytes.Equal(v, x.Value) {
				continue
			}
			if err := unix.Fsetxattr(fd, x.Name, x.Value, 0); err != nil {
				return fmt.Errorf("copy extended attribute %s: %w", x.Name, err)
			}
		}
		return nil
	})
}
