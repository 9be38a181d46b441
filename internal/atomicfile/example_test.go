package atomicfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/sesmime/sesmime/internal/atomicfile"
)

func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	target := filepath.Join(dir, "msg.eml")
	os.WriteFile(target, []byte("old\n"), 0o640)
	os.Chmod(target, 0o640) // whatever the umask

	var c atomicfile.Committer
	in, _ := os.Open(target)
	meta, _ := atomicfile.ReadMetadata(in, nil) // keep mode, owner, ACLs
	in.Close()
	f, _ := c.Create(target)
	f.WriteString("new\n")
	f.SetMetadata(meta)
	f.Queue()
	errs := c.Commit([]*atomicfile.File{f}) // one barrier for the batch, then the renames
	fmt.Println(errs[0], c.Close())

	b, _ := os.ReadFile(target)
	fi, _ := os.Stat(target)
	fmt.Printf("%q %v\n", b, fi.Mode())
	// Output:
	// <nil> <nil>
	// "new\n" -rw-r-----
}
