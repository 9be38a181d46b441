module github.com/sesmime/sesmime/daemon

go 1.26.0
