// Package progress draws the progress bar of a run over many files on a
// terminal: files and bytes done, rate, elapsed time, and once the run's
// total is known a percentage, a gauge and an ETA. Lines the run prints
// meanwhile go above the bar through Bar.Lines, so the two never
// interleave.
//
// It is written here rather than taken from a bar library, which would add
// its dependencies (regexp, Unicode width tables) to every start of the
// command. It is internal: cmd/sesmime uses it.
package progress
