// Command cmpcmd times commands against each other, alternately in rounds
// (so a noisy machine hits them alike), and prints a table: median wall
// time, MB/s of the input, the ratio to a baseline and to cat, and the peak
// resident set size (getrusage ru_maxrss of the child, as /usr/bin/time -v
// reports it), with the median CPU time and page faults of the child: on a
// virtual machine where a page fault costs tens of microseconds, the faults
// explain most of a Go command's start-up.
//
//	cmpcmd -in FILE -out FILE -rounds 15 -base gocat 'cat=cat' 'gocat=./gocat' 'sesmime=./sesmime inject --config-set news'
//
// Each argument is NAME=COMMAND. A command without shell syntax is run
// directly (no shell start-up in the time); one with it runs under sh -c.
// -prepare runs before every timed run of every command, untimed. -once
// names commands run in the first round only: slow peers, whose one run
// takes longer than all the others' rounds.
//
// The ratios are paired: in each round a command's time is divided by the
// baseline's time in that round, and the table shows the median of those
// ratios with their interquartile range. Runs next to each other see the
// same machine, so pairing takes out the swings of a shared host that the
// medians of each command alone keep. When either side ran in fewer than
// three rounds, the ratio is that of the medians, marked "unpaired".
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

type tool struct {
	name, cmd string
	once      bool
	times     []time.Duration
	round     []int           // the round of each entry of times
	cpu       []time.Duration // user + system time of the child
	faults    []int64         // page faults of the child (ru_minflt + ru_majflt)
	rss       int64           // KiB
}

func main() {
	in := flag.String("in", "", "stdin of every run (a file), or none")
	out := flag.String("out", "", "stdout of every run (a file, truncated), or /dev/null")
	bytes := flag.Int64("bytes", 0, "bytes each run processes, for MB/s (default: size of -in)")
	rounds := flag.Int("rounds", 10, "rounds; each runs every command once")
	base := flag.String("base", "", "name of the baseline command")
	prepare := flag.String("prepare", "", "shell command run before each timed run")
	label := flag.String("label", "", "input label for the table")
	once := flag.String("once", "", "comma-separated names of commands run in the first round only")
	flag.Parse()
	var tools []*tool
	for _, a := range flag.Args() {
		name, cmd, ok := strings.Cut(a, "=")
		if !ok {
			fatal("argument %q is not NAME=COMMAND", a)
		}
		tools = append(tools, &tool{name: name, cmd: cmd, once: slices.Contains(strings.Split(*once, ","), name)})
	}
	if *bytes == 0 && *in != "" {
		fi, err := os.Stat(*in)
		if err != nil {
			fatal("%v", err)
		}
		*bytes = fi.Size()
	}
	for r := 0; r < *rounds; r++ {
		for _, t := range tools {
			if t.once && r > 0 {
				continue
			}
			if *prepare != "" {
				if err := exec.Command("sh", "-c", *prepare).Run(); err != nil {
					fatal("prepare: %v", err)
				}
			}
			d, ru := run(t.cmd, *in, *out)
			t.times = append(t.times, d)
			t.round = append(t.round, r)
			t.cpu = append(t.cpu, time.Duration(ru.Utime.Nano()+ru.Stime.Nano()))
			t.faults = append(t.faults, ru.Minflt+ru.Majflt)
			t.rss = max(t.rss, ru.Maxrss)
		}
	}
	ref := func(name string) *tool {
		for _, t := range tools {
			if t.name == name {
				return t
			}
		}
		return nil
	}
	b, c := ref(*base), ref("cat")
	fmt.Printf("| input | tool | median ms | min ms | MB/s | time / %s | time / cat | CPU ms | page faults | peak RSS MiB |\n", *base)
	fmt.Printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, t := range tools {
		m := median(t.times)
		mbs := "-"
		if *bytes > 0 {
			mbs = fmt.Sprintf("%.0f", float64(*bytes)/m.Seconds()/1e6)
		}
		fmt.Printf("| %s | %s | %.1f | %.1f | %s | %s | %s | %.1f | %d | %.1f |\n", *label, t.name,
			ms(m), ms(slices.Min(t.times)), mbs, ratio(t, b), ratio(t, c), ms(median(t.cpu)), median(t.faults), float64(t.rss)/1024)
	}
}

// ratio formats t's time over base's: the median of the rounds' ratios
// with their interquartile range, or the ratio of the medians when either
// ran in fewer than three rounds.
func ratio(t, base *tool) string {
	switch {
	case base == nil:
		return "-"
	case t == base:
		return "1.00"
	case len(t.times) < 3 || len(base.times) < 3:
		return fmt.Sprintf("%.2f (unpaired)", float64(median(t.times))/float64(median(base.times)))
	}
	var rs []float64
	for i, r := range t.round {
		if j := slices.Index(base.round, r); j >= 0 {
			rs = append(rs, float64(t.times[i])/float64(base.times[j]))
		}
	}
	slices.Sort(rs)
	q := func(p float64) float64 { return rs[int(p*float64(len(rs)-1)+0.5)] }
	return fmt.Sprintf("%.2f (%.2f–%.2f)", q(0.5), q(0.25), q(0.75))
}

// median returns the middle value of s (the upper one of an even count).
func median[T int64 | time.Duration](s []T) T {
	s = slices.Clone(s)
	slices.Sort(s)
	return s[len(s)/2]
}

// run runs cmd once with stdin from in and stdout to out, and returns its
// wall time and resource usage.
func run(cmd, in, out string) (time.Duration, *syscall.Rusage) {
	var c *exec.Cmd
	if strings.ContainsAny(cmd, "|&;<>()$`\\\"'*?[#~%") {
		c = exec.Command("sh", "-c", cmd)
	} else {
		f := strings.Fields(cmd)
		c = exec.Command(f[0], f[1:]...)
	}
	if in != "" {
		f, err := os.Open(in)
		if err != nil {
			fatal("%v", err)
		}
		defer f.Close()
		c.Stdin = f
	}
	if out == "" {
		out = os.DevNull
	}
	f, err := os.Create(out)
	if err != nil {
		fatal("%v", err)
	}
	defer f.Close()
	c.Stdout, c.Stderr = f, os.Stderr
	start := time.Now()
	if err := c.Run(); err != nil {
		fatal("%s: %v", cmd, err)
	}
	d := time.Since(start)
	return d, c.ProcessState.SysUsage().(*syscall.Rusage)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "cmpcmd: "+format+"\n", args...)
	os.Exit(1)
}
