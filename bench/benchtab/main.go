// Command benchtab reads `go test -bench -benchmem` output on stdin, echoes
// it, and prints a Markdown table of medians with each line's ratio to its
// baseline: the "copy" sub-benchmark of the same input for Rewrite, "clone"
// for Bytes. Run the benchmarks several times (a loop of -count 1 runs,
// which alternates them) to get medians.
//
// The ratio is paired: the n-th result of a line is divided by the n-th
// result of its baseline, which ran just before it in the same process,
// and the table shows the median of those ratios with their range. On a
// shared machine the memory bandwidth swings by a third from one minute to
// the next, moving a line and its baseline alike; a ratio of the two
// medians would mix results taken minutes apart.
package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

type row struct {
	bench, input, variant  string
	mbs, nsop, bop, allocs []float64
}

var baselines = map[string]string{"BenchmarkRewrite": "copy", "BenchmarkBytes": "clone"}

func main() {
	var rows []*row
	idx := map[string]*row{}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		line := sc.Text()
		fmt.Println(line)
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i] // the GOMAXPROCS suffix
		}
		parts := strings.SplitN(name, "/", 3)
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		r := idx[name]
		if r == nil {
			r = &row{bench: parts[0], input: parts[1], variant: parts[2]}
			idx[name] = r
			rows = append(rows, r)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				r.nsop = append(r.nsop, v)
			case "MB/s":
				r.mbs = append(r.mbs, v)
			case "B/op":
				r.bop = append(r.bop, v)
			case "allocs/op":
				r.allocs = append(r.allocs, v)
			}
		}
	}
	fmt.Println()
	fmt.Println("| benchmark | input | variant | runs | median MB/s | ratio to baseline (range) | median ns/op | B/op | allocs/op |")
	fmt.Println("|---|---|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		ratio := "-"
		if b := idx[r.bench+"/"+r.input+"/"+baselines[r.bench]]; b == r {
			ratio = "baseline"
		} else if b != nil {
			ratio = pairedRatio(r.mbs, b.mbs)
		}
		fmt.Printf("| %s | %s | %s | %d | %s | %s | %s | %s | %s |\n", strings.TrimPrefix(r.bench, "Benchmark"), r.input, r.variant,
			len(r.nsop), num(r.mbs), ratio, num(r.nsop), num(r.bop), num(r.allocs))
	}
}

// pairedRatio formats the median and range of v[i]/base[i]. When the
// counts differ the runs cannot be paired, and it falls back to the ratio
// of the medians, marked so.
func pairedRatio(v, base []float64) string {
	switch {
	case len(v) == 0 || len(base) == 0:
		return "-"
	case len(v) != len(base):
		return fmt.Sprintf("%.2f (unpaired)", median(v)/median(base))
	}
	rs := make([]float64, len(v))
	for i := range v {
		rs[i] = v[i] / base[i]
	}
	if len(rs) == 1 {
		return fmt.Sprintf("%.2f", rs[0])
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", median(rs), slices.Min(rs), slices.Max(rs))
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func num(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	return strconv.FormatFloat(median(v), 'f', 0, 64)
}
