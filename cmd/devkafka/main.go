// Command devkafka runs an in-memory, Kafka-protocol broker (franz-go's
// kfake) on a loopback address, so that orderflow's Kafka mode can be tried,
// and several orderflow processes can share one broker, without Docker:
//
//	go run ./cmd/devkafka --addr 127.0.0.1:9092 --partitions 6 &
//	go run ./cmd/orderflow serve --broker kafka --kafka-brokers 127.0.0.1:9092
//
// It prints the address it listens on as its first line of standard output,
// creates topics on first use, keeps everything in memory, and stops on
// SIGINT or SIGTERM. It is a development tool, not a Kafka.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "devkafka:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("devkafka", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9092", "loopback host:port to listen on (port 0 picks a free one)")
	partitions := fs.Int("partitions", 6, "partitions of topics created on first use")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--addr must be a loopback address, not %q", host)
	}
	if *partitions < 1 {
		return errors.New("--partitions must be positive")
	}
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(*partitions),
		// kfake picks 127.0.0.1 and a random port; listen on --addr instead.
		// The broker advertises the address it listens on.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, *addr) }),
	)
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintln(stdout, c.ListenAddrs()[0])
	<-ctx.Done()
	return nil
}
