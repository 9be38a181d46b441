// Package kcopy lets the kernel copy what a rewrite leaves unchanged: the
// body of a message, from an input file to an output file or pipe.
//
// Wrap the input in a Reader and pass it to inject.Rewriter.Rewrite. The
// Rewriter reads the header through its bufio.Reader (a Reader hands it at
// most HeaderRead bytes a read), writes the new header, and copies the rest
// with io.Copy, which reaches Reader.WriteTo: on Linux that splices, straight
// when either end is a pipe and through a pipe of its own between regular
// files; elsewhere, or when splice cannot go on, it reads and writes. A copy
// that fails says at which end, reading the input or writing the output
// (Error), which a splice alone does not tell.
//
// It is internal: cmd/sesmime and bench/injectmin share it.
package kcopy
