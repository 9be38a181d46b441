module github.com/sesmime/sesmime/daemon

go 1.26.0

require (
	github.com/aws/aws-sdk-go-v2 v1.48.0
	github.com/aws/aws-sdk-go-v2/config v1.33.18
	github.com/aws/aws-sdk-go-v2/service/ses v1.43.0
	github.com/aws/aws-sdk-go-v2/service/sesv2 v1.79.9
	github.com/aws/smithy-go v1.28.9
	github.com/d--j/go-milter v0.10.1
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6
	github.com/emersion/go-smtp v0.26.0
	github.com/google/go-cmp v0.7.0
	github.com/pelletier/go-toml/v2 v2.4.3
	github.com/prometheus/client_golang v1.25.0
	github.com/sesmime/sesmime v0.1.0
	github.com/sesmime/sesmime/awsses v0.1.0
	golang.org/x/crypto v0.59.0
	golang.org/x/time v0.16.0
)

require golang.org/x/text v0.28.0 // indirect
