package smtpsink_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"
	"github.com/sesmime/sesmime/daemon/internal/smtpsink"
)

func TestRecordsExactBytes(t *testing.T) {
	s := smtpsink.Start(t, nil)
	// Bare LF, bare CR, NUL and 8-bit survive; a leading dot is unstuffed.
	msg := "Subject: x\r\n\r\nbare\nlf\rcr\x00nul \xff\r\n..dot\r\n"
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("a@x.test", nil); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"b@y.test", "c@y.test"} {
		if err := c.Rcpt(to, nil); err != nil {
			t.Fatal(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	// The client's writer only stuffs dots and turns bare LF into CRLF, so
	// write already-escaped CRLF data through the raw text connection.
	if _, err := w.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := s.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []smtpsink.Message{{Helo: "localhost", From: "a@x.test", To: []string{"b@y.test", "c@y.test"},
		Data: []byte(strings.ReplaceAll(msg, "bare\nlf", "bare\r\nlf"))}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recorded (-want +got):\n%s", diff)
	}
}

func TestScriptedReplies(t *testing.T) {
	s := smtpsink.Start(t, &smtpsink.Options{
		Rcpt: func(to string) error {
			if strings.HasPrefix(to, "no@") {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
			}
			return nil
		},
		Data: func(m *smtpsink.Message) error {
			if strings.Contains(string(m.Data), "throttle") {
				return &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Throttling failure"}
			}
			return nil
		},
	})
	err := smtpsink.Send(s.Addr, "a@x.test", []string{"no@y.test"}, []byte("Subject: a\r\n\r\n"))
	if se, ok := errors.AsType[*smtp.SMTPError](err); !ok || se.Code != 550 {
		t.Errorf("RCPT no@: err = %v, want 550", err)
	}
	err = smtpsink.Send(s.Addr, "a@x.test", []string{"b@y.test"}, []byte("Subject: throttle\r\n\r\n"))
	if se, ok := errors.AsType[*smtp.SMTPError](err); !ok || se.Code != 454 {
		t.Errorf("DATA: err = %v, want 454", err)
	}
	if n := s.Len(); n != 0 {
		t.Errorf("%d messages recorded, want 0", n)
	}
}
