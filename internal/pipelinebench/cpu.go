package pipelinebench

import (
	"syscall"
	"time"

	"github.com/prometheus/procfs"
)

// CPU is the CPU time a run used from its first order to the end of the
// drain, and that time per order settled (confirmed or cancelled). On a
// machine whose cores the pipeline saturates, the highest sustainable rate
// is the cores over the CPU per order, so this is the figure that shows a
// cost (tracing, a middleware) below saturation, where the rates of two runs
// are equal and their noise hides it.
type CPU struct {
	// Process is the benchmark's own process: the service, the load
	// generator and the watcher (the same in every run, so a difference
	// between runs is the service's). On the embedded default it is all the
	// CPU the pipeline uses.
	ProcessSeconds float64 `json:"process_seconds"`
	// Server is every PostgreSQL process on this machine (backends, the
	// exited ones included through the postmaster's children time,
	// checkpointer, WAL writer): on a shared server, other databases' work
	// counts too. Zero on SQLite, or where /proc does not show the server.
	ServerSeconds float64 `json:"server_seconds,omitempty"`
	Settled       int     `json:"settled"`
	// Per order settled, in milliseconds.
	ProcessMsPerOrder float64 `json:"process_ms_per_order"`
	ServerMsPerOrder  float64 `json:"server_ms_per_order,omitempty"`
}

// cpuClock reads the process's CPU time and, with postgres, the server's.
type cpuClock struct{ postgres bool }

type cpuReading struct{ process, server time.Duration }

func (c cpuClock) read() cpuReading {
	var r cpuReading
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		r.process = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if c.postgres {
		r.server = postgresCPU()
	}
	return r
}

func (c cpuClock) since(start cpuReading, settled int) CPU {
	now := c.read()
	out := CPU{ProcessSeconds: (now.process - start.process).Seconds(), Settled: settled}
	if c.postgres && start.server > 0 {
		out.ServerSeconds = (now.server - start.server).Seconds()
	}
	if settled > 0 {
		out.ProcessMsPerOrder = out.ProcessSeconds * 1000 / float64(settled)
		out.ServerMsPerOrder = out.ServerSeconds * 1000 / float64(settled)
	}
	return out
}

// clockTicks is the unit of the process times in /proc/<pid>/stat:
// USER_HZ, 100 on every Linux this runs on (procfs assumes it too).
const clockTicks = 100

// postgresCPU sums the user, system and children's times of every process
// named postgres (procfs, /proc/<pid>/stat): the postmaster's children
// times hold the backends that have exited. Zero where there is no /proc.
func postgresCPU() time.Duration {
	procs, err := procfs.AllProcs()
	if err != nil {
		return 0
	}
	var ticks int64
	for _, p := range procs {
		st, err := p.Stat()
		if err != nil || st.Comm != "postgres" {
			continue // exited meanwhile, or another program
		}
		ticks += int64(st.UTime) + int64(st.STime) + int64(st.CUTime) + int64(st.CSTime)
	}
	return time.Duration(ticks) * time.Second / clockTicks
}
