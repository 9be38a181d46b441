// Command genmsg writes the benchmark messages of bench/msggen: one
// message of -size bytes to stdout, or with -tree DIR, -n small messages
// (-size bytes each) under DIR in subdirectories of 1,000.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sesmime/sesmime/bench/msggen"
)

func main() {
	size := flag.Int("size", 4<<10, "message size in bytes")
	fields := flag.Int("fields", 0, "extra header fields")
	tree := flag.String("tree", "", "write -n messages under this directory")
	n := flag.Int("n", 10000, "number of messages with -tree")
	flag.Parse()
	if err := run(*size, *fields, *tree, *n); err != nil {
		fmt.Fprintln(os.Stderr, "genmsg:", err)
		os.Exit(1)
	}
}

func run(size, fields int, tree string, n int) error {
	msg := msggen.Message(size, fields)
	if tree == "" {
		_, err := os.Stdout.Write(msg)
		return err
	}
	for i := range n {
		dir := filepath.Join(tree, fmt.Sprintf("d%02d", i/1000))
		if i%1000 == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("m%05d.eml", i)), msg, 0o644); err != nil {
			return err
		}
	}
	return nil
}
