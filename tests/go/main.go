// burn is cpgo's Go test peer: it spends CPU in a few named functions
// (one of them small enough to be inlined, some under pprof labels) and
// writes a CPU profile with runtime/pprof, so the tests check cpgo against
// profiles written by Go itself and against `go tool pprof`.
//
//	burn -o out.pprof [-d 1s] [-mix 3:1] [-heap heap.pprof]
//
// -mix sets how the time is split between burnHot and burnWarm; -heap also
// writes a heap profile (other sample types, no duration).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

var sink uint64

// step is small enough for the compiler to inline: its samples carry an
// inlined frame inside its callers.
func step(x uint64) uint64 {
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	return x
}

//go:noinline
func burnHot(n int) {
	x := sink | 1
	for i := 0; i < n; i++ {
		x = step(x)
	}
	sink += x
}

//go:noinline
func burnWarm(n int) {
	x := sink | 3
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		if x&1 == 0 {
			x = step(x)
		}
	}
	sink += x
}

//go:noinline
func recurse(depth, n int) {
	if depth == 0 {
		burnHot(n)
		return
	}
	recurse(depth-1, n)
}

func run(d time.Duration, hot, warm int) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		pprof.Do(context.Background(), pprof.Labels("phase", "hot"), func(context.Context) {
			for i := 0; i < hot; i++ {
				recurse(3, 20000)
			}
		})
		for i := 0; i < warm; i++ {
			burnWarm(20000)
		}
	}
}

func main() {
	out := flag.String("o", "", "write the CPU profile here")
	d := flag.Duration("d", time.Second, "how long to burn CPU")
	mix := flag.String("mix", "3:1", "hot:warm time split")
	heap := flag.String("heap", "", "also write a heap profile here")
	flag.Parse()
	parts := strings.SplitN(*mix, ":", 2)
	hot, err1 := strconv.Atoi(parts[0])
	warm, err2 := 0, error(nil)
	if len(parts) == 2 {
		warm, err2 = strconv.Atoi(parts[1])
	}
	if *out == "" || err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "usage: burn -o out.pprof [-d 1s] [-mix 3:1]")
		os.Exit(2)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	run(*d, hot, warm)
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *heap != "" {
		h, err := os.Create(*heap)
		if err == nil {
			err = pprof.WriteHeapProfile(h)
			if cerr := h.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
