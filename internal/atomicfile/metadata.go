package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
)

// Metadata is what a new file is given from the file it replaces.
type Metadata struct {
	// Mode holds the permission bits and the set-user-ID, set-group-ID
	// and sticky bits.
	Mode fs.FileMode
	// UID and GID are the owner and group; -1 leaves the one the file was
	// created with.
	UID, GID int
	// Xattrs are the extended attributes, ACLs included. The new file
	// gets each of them and loses those it was created with (such as an
	// ACL inherited from its directory) that are not among them, except
	// security labels, which the system gives it.
	Xattrs []Xattr
}

// An Xattr is one extended attribute.
type Xattr struct {
	Name  string
	Value []byte
}

// keepMode is the part of a fs.FileMode that Metadata.Mode keeps.
const keepMode = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// ReadMetadata returns the metadata of the open file f, whose status is fi
// (nil: ReadMetadata reads it).
func ReadMetadata(f *os.File, fi fs.FileInfo) (*Metadata, error) {
	var err error
	if fi == nil {
		if fi, err = f.Stat(); err != nil {
			return nil, err
		}
	}
	m := &Metadata{Mode: fi.Mode() & keepMode, UID: -1, GID: -1}
	m.UID, m.GID = owner(fi)
	if m.Xattrs, err = readXattrs(f); err != nil {
		return nil, fmt.Errorf("read extended attributes: %w", err)
	}
	return m, nil
}

// apply gives f, created with owner uid and group gid, the metadata m:
// owner first (a chown clears the set-ID bits and file capabilities), then
// extended attributes, then the mode. It fails when the file cannot have
// it all, rather than keep a part.
func (m *Metadata) apply(f *os.File, uid, gid int) error {
	if m.UID >= 0 && (uid != m.UID || gid != m.GID) {
		if err := f.Chown(m.UID, m.GID); err != nil {
			return fmt.Errorf("keep owner %d:%d: %w", m.UID, m.GID, err)
		}
	}
	if err := setXattrs(f, m.Xattrs); err != nil {
		return err
	}
	if err := f.Chmod(m.Mode); err != nil {
		return fmt.Errorf("keep mode %v: %w", m.Mode, err)
	}
	if m.Mode&(fs.ModeSetuid|fs.ModeSetgid) == 0 {
		return nil // only these can the system drop without an error
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if got := fi.Mode() & keepMode; !modeKept(got, m.Mode) {
		return fmt.Errorf("keep mode %v: the system set %v", m.Mode, got)
	}
	return nil
}
