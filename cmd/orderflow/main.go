// Command orderflow is the order service: `orderflow serve` runs the HTTP API,
// the outbox forwarder and the projections in one process; `orderflow migrate`
// applies database migrations.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/service"
)

const usage = `orderflow — event-sourced order processing on Watermill

Usage:
  orderflow serve   [flags]   run the service (embedded SQLite in --data-dir unless --postgres-url is set)
  orderflow migrate [flags]   apply database migrations and exit
  orderflow replay --projection order_summary [--from-position N]
                              rebuild a read model beside the live one, then swap it in
  orderflow replay-topic --topic T --handler H [--from-offset N | --since RFC3339] [--dry-run]
                              feed a broker topic through one handler's route and middleware
  orderflow poison list|show ID|requeue ID|purge [ID] [flags]
                              the poison queue: messages no handler could process
  orderflow checkouts list [--state parked] | resume ORDER_ID|--all-parked [flags]
                              checkouts the saga gave up on (parked), and handing them back
  orderflow bench [--rate N --duration D --hot --devkafka --out F] [flags]
                              end-to-end benchmark on a fresh store: append ceiling, POST
                              rate, confirmed rate, place→confirmed latency
  orderflow loadtest [--target URL --rate N --duration D | --steps 50,100,200 | --concurrency N]
                              load a running service over its HTTP API with a realistic mix;
                              latency, throughput, backlog, the highest sustainable rate;
                              a text summary and a self-contained HTML report
  orderflow help [command]    show this help or a command's flags

Every flag has an environment variable: --http-addr is ORDERFLOW_HTTP_ADDR, and so on.
Run 'orderflow serve --help' for the flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "orderflow:", err)
			os.Exit(1)
		}
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, stderr)
	case "migrate":
		return migrate(ctx, rest, stdout, stderr)
	case "replay":
		return replay(ctx, rest, stdout, stderr)
	case "replay-topic":
		return replayTopic(ctx, rest, stdout, stderr)
	case "poison":
		return poisonCommand(ctx, rest, stdout, stderr)
	case "checkouts":
		return checkoutsCommand(ctx, rest, stdout, stderr)
	case "bench":
		return bench(ctx, rest, stdout, stderr)
	case "loadtest":
		return loadtestCommand(ctx, rest, stdout, stderr)
	case "help", "-h", "--help", "-help":
		if len(rest) > 0 && !slices.Contains([]string{"help", "-h", "--help", "-help"}, rest[0]) {
			return run(ctx, []string{rest[0], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// parseFlags declares the store's and the log's flags on c, and those bind
// declares, parses args (refusing positional arguments) and applies c's
// defaults. Validation is the caller's.
func parseFlags(name string, args []string, stderr io.Writer, c *service.Config, bind func(flags)) error {
	fs := flag.NewFlagSet("orderflow "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := flags{fs}
	f.storeFlags(c)
	if bind != nil {
		bind(f)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	*c = c.WithDefaults()
	return nil
}

// parseConfig parses the flags of a subcommand that needs only the store's
// (serve: every setting) and returns the configuration, validated.
func parseConfig(name string, args []string, serve bool, stderr io.Writer) (service.Config, error) {
	var c service.Config
	var bind func(flags)
	if serve {
		bind = func(f flags) { f.serveFlags(&c) }
	}
	if err := parseFlags(name, args, stderr, &c, bind); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// withAdmin opens the adapters c names and runs fn with the admin use cases
// on them, then closes them.
func withAdmin(ctx context.Context, c service.Config, fn func(admin app.Admin, logger *slog.Logger) error) (err error) {
	logger := service.NewLogger(c, os.Stderr)
	st, err := service.Open(ctx, c, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	return fn(st.Admin(logger, nil), logger)
}

// serve runs until ctx is cancelled (SIGINT, SIGTERM), then drains.
func serve(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseConfig("serve", args, true, stderr)
	if err != nil {
		return err
	}
	// Tracing: the standard OTEL_* variables, not flags (README,
	// "Observability").
	cfg.Tracing = telemetry.FromEnv(os.Getenv)
	if err := cfg.Tracing.Validate(); err != nil {
		return err
	}
	m := service.NewMain(cfg)
	m.Logger = service.NewLogger(cfg, os.Stderr)
	if err := m.Run(ctx); err != nil {
		_ = m.Close()
		return err
	}
	select {
	case <-ctx.Done():
		m.Logger.Info("shutting down: draining requests and handlers", "timeout", cfg.ShutdownTimeout)
	case err = <-m.Failed():
		m.Logger.Error("router stopped", "error", err)
	}
	if cerr := m.Close(); cerr != nil {
		return errors.Join(err, cerr)
	}
	return err
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("migrate", args, false, stderr)
	if err != nil {
		return err
	}
	if err := service.Migrate(ctx, cfg, service.NewLogger(cfg, os.Stderr)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s schema is up to date\n", cfg.StoreName())
	return nil
}
