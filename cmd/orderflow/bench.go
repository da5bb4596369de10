package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/orderflow/orderflow/internal/pipelinebench"
	"github.com/orderflow/orderflow/service"
)

// bench runs the end-to-end pipeline benchmark (internal/pipelinebench)
// and writes its report to stdout, and as JSON to --out.
func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c pipelinebench.Config
	var out, cpuProfile string
	if err := parseFlags("bench", args, stderr, &c.Service, func(f flags) {
		f.brokerFlags(&c.Service.BrokerConfig)
		f.pipelineFlags(&c.Service)
		c.Bind(f)
		f.Str(&out, "out", "", "write the report as JSON to this file")
		f.Str(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (service included) to this file, for go tool pprof")
	}); err != nil {
		return err
	}
	if cpuProfile != "" {
		stop, err := startCPUProfile(cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	r, err := pipelinebench.Run(ctx, c, service.NewLogger(c.Service, os.Stderr), stderr)
	if err != nil {
		return err
	}
	if out != "" {
		if err := r.WriteJSON(out); err != nil {
			return err
		}
	}
	return r.WriteText(stdout)
}

// startCPUProfile profiles the process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}
