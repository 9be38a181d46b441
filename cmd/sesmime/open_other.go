//go:build !unix

package main

// openFlags are added to every open of an input that must be a regular
// file; see open_unix.go.
const openFlags = 0
