// Command injectmin sets the configuration set named by its argument on the
// message from stdin, to stdout, with the inject package and nothing else:
// no flags, no file handling, no reports. It is the floor for a rewriting
// command, between bench/gocat (a bare copy) and sesmime in bench/run.sh, so
// the table shows what the library costs and what the command adds. The
// body is copied in the kernel by internal/kcopy, as in sesmime.
package main

import (
	"fmt"
	"os"

	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/internal/kcopy"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: injectmin CONFIGURATION-SET <in >out")
		os.Exit(2)
	}
	rw, err := inject.NewRewriter(&inject.Options{ConfigurationSet: os.Args[1]})
	if err == nil {
		_, err = rw.Rewrite(os.Stdout, kcopy.NewReader(os.Stdin))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "injectmin:", err)
		os.Exit(1)
	}
}
