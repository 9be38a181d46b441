package relay

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesmime/sesmime/awsses/fakeses"
)

// TestAPIKeepsConnections: sessions sending at once each keep their HTTP
// connection for the next message, beyond the SDK's default of 10 idle
// connections per host.
func TestAPIKeepsConnections(t *testing.T) {
	const sessions = 16
	api := fakeAPI(t)
	// Each round's requests are answered once all of them have arrived,
	// so that each round holds a connection per session open at once.
	var mu sync.Mutex
	arrived := 0
	full := []chan struct{}{make(chan struct{}), make(chan struct{})}
	api.Respond = func(int, fakeses.Request) fakeses.Fault {
		mu.Lock()
		ch := full[arrived/sessions]
		if arrived++; arrived%sessions == 0 {
			close(ch)
		}
		mu.Unlock()
		select {
		case <-ch:
		case <-time.After(10 * time.Second): // a session failed: its error says why
		}
		return fakeses.OK
	}
	// A proxy in front of the fake counts the connections made to it.
	u, _ := url.Parse(api.URL)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var dials atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			dials.Add(1)
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", u.Host)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	cfg := apiConfig(api, upSESv2)
	cfg.EndpointURL = "http://" + ln.Addr().String()
	cfg.Rate = 1e6
	r, _ := startRelay(t, cfg)
	round := func() {
		var wg sync.WaitGroup
		for range sessions {
			wg.Go(func() {
				if _, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	round()
	round()
	if n := dials.Load(); n != sessions {
		t.Errorf("%d HTTP connections for two rounds of %d sessions, want %d", n, sessions, sessions)
	}
}

// TestOneWrite: the relay's HTTP client writes a request of 20 KB, whose
// body the SDK hands over as a stream, in one write.
func TestOneWrite(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	t.Cleanup(srv.Close)
	var writes atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return writeCounter{c, &writes}, err
	}}
	apiTransport(tr, 1)
	t.Cleanup(tr.CloseIdleConnections)
	c := oneWrite{&http.Client{Transport: tr}}
	body := strings.Repeat("x", 20000)
	req, _ := http.NewRequest("POST", srv.URL, io.MultiReader(strings.NewReader(body))) // not known to be in memory
	req.ContentLength = int64(len(body))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := writes.Load(); n != 1 {
		t.Errorf("%d writes for the request, want 1", n)
	}
}

type writeCounter struct {
	net.Conn
	n *atomic.Int32
}

func (c writeCounter) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(p)
}
