package awsses_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/sesmime/sesmime/awsses"
	"github.com/sesmime/sesmime/awsses/fakeses"
	"github.com/sesmime/sesmime/parse"
)

func ExampleRawEmailInput() {
	msg := []byte("Subject: hi\r\n\r\nbody\r\n")
	in, err := awsses.RawEmailInput(msg, &awsses.Options{
		ConfigurationSet: "news",
		Tags:             []parse.Tag{{Name: "campaign", Value: "spring"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", in.RawMessage.Data)
	fmt.Println(in.ConfigurationSetName == nil, in.Tags == nil)
	// Then: sesClient.SendRawEmail(ctx, in)

	// Output:
	// "X-SES-CONFIGURATION-SET: news\r\nX-SES-MESSAGE-TAGS: campaign=spring\r\nSubject: hi\r\n\r\nbody\r\n"
	// true true
}

func ExampleSendEmailInput() {
	msg := []byte("X-SES-CONFIGURATION-SET: news\r\nX-SES-MESSAGE-TAGS: campaign=spring\r\nSubject: hi\r\n\r\nbody\r\n")
	in, err := awsses.SendEmailInput(msg, &awsses.Options{
		Tags:       []parse.Tag{{Name: "variant", Value: "b"}},
		OnConflict: awsses.Merge,
		TenantName: "acme",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", in.Content.Raw.Data)
	fmt.Println(aws.ToString(in.ConfigurationSetName), aws.ToString(in.TenantName))
	for _, t := range in.EmailTags {
		fmt.Println(aws.ToString(t.Name), aws.ToString(t.Value))
	}
	// Then: sesv2Client.SendEmail(ctx, in)

	// Output:
	// "Subject: hi\r\n\r\nbody\r\n"
	// news acme
	// campaign spring
	// variant b
}

func ExampleConflictError() {
	msg := []byte("X-SES-MESSAGE-TAGS: campaign=spring\r\nSubject: hi\r\n\r\nbody\r\n")
	_, err := awsses.SendEmailInput(msg, &awsses.Options{Tags: []parse.Tag{{Name: "campaign", Value: "autumn"}}})
	if ce, ok := errors.AsType[*awsses.ConflictError](err); ok {
		fmt.Println(ce.Line, ce.Field, ce.Message, ce.Option)
	}
	// Output: 1 X-SES-MESSAGE-TAGS campaign=spring campaign=autumn
}

func ExampleSender() {
	srv := fakeses.New() // a local stand-in for SES; use the real endpoint in production
	defer srv.Close()
	cfg := aws.Config{ // in production: config.LoadDefaultConfig(ctx)
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRETTEST", ""),
		BaseEndpoint: aws.String(srv.URL),
	}
	msgs := func(yield func(awsses.Message) bool) {
		_ = yield(awsses.Message{Name: "a.eml", Data: []byte("Subject: a\r\n\r\nhello\r\n")}) &&
			yield(awsses.Message{Name: "b.eml", Data: []byte("Subject: b\r\n\r\nhello\r\n")})
	}
	for _, s := range []*awsses.Sender{
		{V1: ses.NewFromConfig(cfg), Options: &awsses.Options{ConfigurationSet: "news"}, Concurrency: 1},
		{V2: sesv2.NewFromConfig(cfg), Options: &awsses.Options{ConfigurationSet: "news"}, Concurrency: 1},
	} {
		sum, err := s.Send(context.Background(), msgs, func(r awsses.Report) {
			fmt.Println(s.API(), r.Name, r.MessageID, r.Err)
		})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%+v\n", sum)
	}
	// Output:
	// v1 a.eml 0100019a-fake-000001 <nil>
	// v1 b.eml 0100019a-fake-000002 <nil>
	// {Sent:2 Failed:0}
	// v2 a.eml 0100019a-fake-000003 <nil>
	// v2 b.eml 0100019a-fake-000004 <nil>
	// {Sent:2 Failed:0}
}
