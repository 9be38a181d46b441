// Package modproxy writes a file-based Go module proxy, the directory
// layout that GOPROXY=file://DIR reads, from module source trees on disk.
//
// It exists so a test can prove that every command of this repository
// installs with `go install PATH@VERSION` exactly as a user's would from a
// real proxy: the modules are zipped as the go command zips them
// (golang.org/x/mod/zip), so replace directives, files outside the module
// and nested modules behave as they do after a release.
//
// # Limits
//
// The zips follow golang.org/x/mod/zip's limits (500 MB per module, no
// invalid file names). Info files carry the time of Write.
package modproxy
