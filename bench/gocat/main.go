// Command gocat copies stdin to stdout with io.Copy and nothing else: the
// floor for any Go command-line tool, which sesmime's CLI benchmark is
// measured against (see bench/run.sh). Between files io.Copy reaches
// copy_file_range, as sesmime does.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	if _, err := io.Copy(os.Stdout, os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "gocat:", err)
		os.Exit(1)
	}
}
