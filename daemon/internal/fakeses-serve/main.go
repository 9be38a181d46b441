// Command fakeses-serve runs awsses/fakeses on loopback for benchmarks:
// it prints the endpoint URL on stdout and serves until killed. Requests
// are counted, not kept (the fake records them; a benchmark run is short).
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/sesmime/sesmime/awsses/fakeses"
)

func main() {
	s := fakeses.New()
	s.MaxSendRate = 1e6
	fmt.Println(s.URL)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
	fmt.Fprintf(os.Stderr, "fakeses-serve: %d requests\n", len(s.Requests()))
	s.Close()
}
