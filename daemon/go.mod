module github.com/sesmime/sesmime/daemon

go 1.26.0

require (
	github.com/d--j/go-milter v0.10.1
	github.com/emersion/go-smtp v0.26.0
	github.com/google/go-cmp v0.7.0
	github.com/sesmime/sesmime v0.1.0
)

require (
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6 // indirect
	golang.org/x/text v0.28.0 // indirect
)
