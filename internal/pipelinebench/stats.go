package pipelinebench

import (
	"bufio"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Latency summarizes durations, in milliseconds (float). Percentiles are
// nearest-rank over every sample: exact, and a run holds at most a few
// hundred thousand samples.
type Latency struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p99_9_ms"`
	Max   float64 `json:"max_ms"`
}

func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	at := func(q float64) float64 {
		i := int(q*float64(len(ds))+0.9999999) - 1 // nearest rank: ceil(q*n)-1
		return ms(ds[min(max(i, 0), len(ds)-1)])
	}
	return Latency{Count: len(ds), Mean: ms(sum / time.Duration(len(ds))),
		P50: at(0.50), P90: at(0.90), P99: at(0.99), P999: at(0.999), Max: ms(ds[len(ds)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Memory is the process's resident set and Go heap (the service runs in
// the benchmark's process, so both are the service's plus the load's).
type Memory struct {
	RSSBytes  uint64 `json:"rss_bytes"`
	HeapBytes uint64 `json:"heap_bytes"`
}

func readMemory() Memory {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return Memory{RSSBytes: rss(), HeapBytes: m.HeapAlloc}
}

// rss is VmRSS from /proc/self/status; 0 where there is none.
func rss() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
