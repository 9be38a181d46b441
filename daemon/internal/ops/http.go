package ops

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Health is what /healthz and /readyz report. The zero value is alive and
// not ready.
type Health struct {
	ready atomic.Bool
}

// SetReady sets what /readyz reports: ready while serving, not ready
// before start and once shutdown began.
func (h *Health) SetReady(ok bool) { h.ready.Store(ok) }

// Ready reports what SetReady last set.
func (h *Health) Ready() bool { return h.ready.Load() }

// Handler serves /metrics (m's registry), /healthz (200 while the process
// runs) and /readyz (200 when ready, 503 otherwise).
func Handler(m *Metrics, h *Health) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !h.Ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return mux
}

// An HTTPServer serves Handler on a listener until Close.
type HTTPServer struct {
	Addr string // the address it listens on, with the port chosen
	srv  *http.Server
}

// ServeHTTP listens on addr ("127.0.0.1:0" picks a port) and serves
// Handler(m, h) in the background.
func ServeHTTP(addr string, m *Metrics, h *Health) (*HTTPServer, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &HTTPServer{Addr: l.Addr().String(), srv: &http.Server{Handler: Handler(m, h), ReadHeaderTimeout: 10 * time.Second}}
	go s.srv.Serve(l)
	return s, nil
}

// Close stops the server, waiting up to a second for requests in flight.
func (s *HTTPServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}
