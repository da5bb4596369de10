package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/orderflow/orderflow/internal/loadtest"
	"github.com/orderflow/orderflow/service"
)

// loadtestCommand loads a running service over HTTP (internal/loadtest),
// writes the summary to stdout and the reports to --report and --out. It
// opens no store: the service under test is another process, found at
// --target.
func loadtestCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		c                  loadtest.Config
		log                service.Config
		steps, report, out string
	)
	fs := flag.NewFlagSet("orderflow loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := flags{fs}
	c.Bind(f, &steps)
	f.Str(&report, "report", "loadtest-report.html", "write the HTML report (self-contained: opens offline) to this file; empty: none")
	f.Str(&out, "out", "", "write the result as JSON to this file")
	f.logFlags(&log)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if c.Steps, err = loadtest.ParseSteps(steps); err != nil {
		return err
	}
	// Every field has its flag's default already: validating before
	// Run fills zero fields keeps an explicit --rate 0 an error, not 50/s.
	if err := c.Validate(); err != nil {
		return err
	}
	logger := service.NewLogger(log.WithDefaults(), stderr)
	target := loadtest.NewHTTPTarget(c.Target, c.APIKey, c.MaxInFlight+2*c.Pollers+8)
	res, err := loadtest.Run(ctx, c, target, logger, stderr)
	if err != nil {
		return err
	}
	if out != "" {
		if err := res.WriteJSON(out); err != nil {
			return err
		}
	}
	if report != "" {
		if err := res.WriteHTMLFile(report); err != nil {
			return err
		}
		defer fmt.Fprintf(stdout, "report: %s\n", report)
	}
	return res.WriteText(stdout)
}
