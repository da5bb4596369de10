package main

import (
	"context"
	"io"
	"os"

	"github.com/orderflow/orderflow/internal/pipelinebench"
	"github.com/orderflow/orderflow/service"
)

// bench runs the end-to-end pipeline benchmark (internal/pipelinebench)
// and writes its report to stdout, and as JSON to --out.
func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c pipelinebench.Config
	var out string
	if err := parseFlags("bench", args, stderr, &c.Service, func(f flags) {
		f.brokerFlags(&c.Service.BrokerConfig)
		c.Bind(f)
		f.Str(&out, "out", "", "write the report as JSON to this file")
	}); err != nil {
		return err
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
