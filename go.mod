module github.com/sesmime/sesmime

go 1.26

require (
	github.com/emersion/go-message v0.18.2 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
)
