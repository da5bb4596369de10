package pipelinebench

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/orderflow/orderflow/internal/loadgen"
)

// Latency summarizes durations, in milliseconds (float). Percentiles are
// nearest-rank over every sample (loadgen.Summarize): exact, and a run holds
// at most a few hundred thousand samples.
type Latency = loadgen.Latency

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
