package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// heapFloor is the heap the relay grows to before the collector runs.
// Its live heap is a few MB, and each message through an API upstream
// allocates ~150 KB (the SDK's request, the rewritten copies), so at the
// runtime's own floor (4 MB at GOGC=100) it would collect every few dozen
// messages, each time scanning every session's stack. At 16 MiB it
// collects about a quarter as often; a higher floor saves less and less CPU
// for as much more memory.
const heapFloor = 16 << 20

// keepHeapFloor sets GOGC after every collection so that the next one
// comes when the heap reaches floor bytes, or twice the live heap once
// that is more (GOGC=100, the default). A GOGC in the environment wins.
// stop ends it after the next collection.
func keepHeapFloor(floor uint64) (stop func()) {
	var stopped atomic.Bool
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	last := 100
	var arm func()
	arm = func() {
		// The cleanup runs once the sentinel is found unreachable, that
		// is after a collection, and arms the next one.
		runtime.AddCleanup(new(gcSentinel), func(struct{}) {
			if stopped.Load() {
				return
			}
			metrics.Read(sample)
			if p := gcPercent(sample[0].Value.Uint64(), floor); p != last {
				debug.SetGCPercent(p)
				last = p
			}
			arm()
		}, struct{}{})
	}
	arm()
	return func() { stopped.Store(true) }
}

type gcSentinel struct {
	_ *byte // not a tiny allocation, which a cleanup may never see freed
	_ [8]byte
}

// gcPercent is the GOGC that puts the next collection at floor bytes for a
// live heap of live bytes, and never below 100.
func gcPercent(live, floor uint64) int {
	if live == 0 || 2*live >= floor {
		return 100
	}
	return int(floor*100/live) - 100
}
