package postfixtest_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/sesmime/sesmime/daemon/internal/postfixtest"
	"github.com/sesmime/sesmime/daemon/internal/smtpsink"
)

// TestRelay sends one message over SMTP and one through sendmail, on two
// instances at once, and checks both arrive at each instance's own sink
// with the body unchanged.
func TestRelay(t *testing.T) {
	if err := postfixtest.Available(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	t.Parallel()
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			t.Run(fmt.Sprint("instance", i), func(t *testing.T) { relayOnce(t, i) })
		})
	}
	wg.Wait()
}

func relayOnce(t *testing.T, i int) {
	sink := smtpsink.Start(t, nil)
	pf := postfixtest.Start(t, &postfixtest.Options{RelayHost: sink.Addr})
	body := fmt.Sprintf("instance %d\r\n8-bit: \xc3\xa9\r\n", i)
	msg := "From: a@x.test\r\nTo: b@y.test\r\nSubject: smtp\r\nMessage-ID: <1@x.test>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n" + body
	if err := smtpsink.Send(pf.Addr, "a@x.test", []string{"b@y.test"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := pf.Sendmail("c@x.test", []string{"d@y.test"}, []byte(strings.ReplaceAll(msg, "\r\n", "\n"))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := sink.Wait(ctx, 2)
	if err != nil {
		t.Fatalf("%v: %d messages arrived", err, len(got))
	}
	if err := pf.WaitEmpty(ctx); err != nil {
		t.Fatal(err)
	}
	senders := map[string]bool{}
	for _, m := range got {
		senders[m.From] = true
		if !bytes.HasPrefix(m.Data, []byte("Received: ")) {
			t.Errorf("message from %s does not start with Postfix's Received: %q", m.From, m.Data[:min(len(m.Data), 80)])
		}
		if !bytes.HasSuffix(m.Data, []byte("\r\n\r\n"+body)) {
			t.Errorf("message from %s: body changed: %q", m.From, m.Data)
		}
	}
	if !senders["a@x.test"] || !senders["c@x.test"] {
		t.Errorf("senders = %v, want a@x.test and c@x.test", senders)
	}
}

// TestStopTwice checks Stop is idempotent and a stopped instance no
// longer listens.
func TestStopTwice(t *testing.T) {
	pf := postfixtest.Start(t, nil)
	if err := pf.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := pf.Stop(); err != nil {
		t.Fatal(err)
	}
	if c, err := smtp.Dial(pf.Addr); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after Stop", pf.Addr)
	}
}
