package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestGCPercent(t *testing.T) {
	for _, c := range []struct {
		live, floor uint64
		want        int
	}{
		{4 << 20, 32 << 20, 700},
		{1 << 20, 32 << 20, 3100},
		{16 << 20, 32 << 20, 100},
		{100 << 20, 32 << 20, 100},
		{0, 32 << 20, 100},
	} {
		if got := gcPercent(c.live, c.floor); got != c.want {
			t.Errorf("gcPercent(%d, %d) = %d, want %d", c.live, c.floor, got, c.want)
		}
	}
}

// TestKeepHeapFloor: after a collection GOGC is what gcPercent gives for
// the live heap.
func TestKeepHeapFloor(t *testing.T) {
	t.Setenv("GOGC", "")
	old := debug.SetGCPercent(100)
	stop := keepHeapFloor(1 << 40) // far above any test's heap: GOGC rises
	defer func() { stop(); debug.SetGCPercent(old) }()
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	for range 500 { // the cleanup runs in its own goroutine after the GC
		runtime.GC()
		if metrics.Read(s); s[0].Value.Uint64() > 100 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("GOGC %d after collections with a floor of 1 TB, want more than 100", s[0].Value.Uint64())
}
