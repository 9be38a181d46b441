//go:build unix

package main

import "syscall"

// openFlags are added to every open of an input that must be a regular
// file: a named pipe or device put there since a listing or a stat cannot
// block the run (reads of a regular file ignore O_NONBLOCK), nor become
// the controlling terminal.
const openFlags = syscall.O_NONBLOCK | syscall.O_NOCTTY
