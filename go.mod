module github.com/sesmime/sesmime

go 1.26.0

require (
	github.com/emersion/go-message v0.18.2
	github.com/google/go-cmp v0.7.0
	github.com/pelletier/go-toml/v2 v2.4.3
	golang.org/x/term v0.48.0
)

require (
	golang.org/x/mod v0.43.0
	golang.org/x/sys v0.50.0
)

require github.com/spf13/pflag v1.0.10
