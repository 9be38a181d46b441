// Command sesmime-send sends raw email messages through Amazon SES, with the
// configuration set and tags settled by package
// github.com/sesmime/sesmime/awsses.
//
// Usage:
//
//	sesmime-send [--api ses|sesv2] [--config-set NAME] [--tag NAME=VALUE]...
//	             [--placement headers|params] [--on-conflict refuse|merge|override]
//	             [--from ADDR] [--to ADDR]... [--tenant NAME] [--identity-arn ARN]
//	             [--source-arn ARN] [--from-arn ARN] [--return-path-arn ARN]
//	             [--endpoint-url URL] [--region REGION] [--profile NAME] [--max-attempts N]
//	             [-j N] [--ext .eml]... [--dry-run] [--json] PATH|-...
//
// Each PATH is a message file, or a directory walked for files ending in
// --ext (default .eml); - reads one message from standard input. Messages
// go through SESv2 SendEmail (--api sesv2, the default) or SES v1
// SendRawEmail (--api ses), -j at a time.
//
// Credentials, region and profile are read the standard SDK way
// (environment, shared config and credentials files, SSO, IMDS);
// --region, --profile and --endpoint-url override them. Throttling is
// retried by the SDK's standard retryer, --max-attempts times in all.
//
// For each message sent, standard output gets "PATH<TAB>MESSAGEID" (or a
// JSON object with --json); a message that fails gets
// "sesmime-send: PATH: reason" on standard error and the next one still
// runs. The exit code is 0 when every message was sent, 1 when any failed,
// and 2 on a usage error.
package main
