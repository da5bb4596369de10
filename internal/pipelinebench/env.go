package pipelinebench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/orderflow/orderflow/service"
	"github.com/twmb/franz-go/pkg/kfake"
)

// env is what a run creates around the service and removes afterwards: the
// fresh store locations and the in-process Kafka.
type env struct {
	cleanups []func() error
}

func (e *env) defer_(fn func() error) { e.cleanups = append(e.cleanups, fn) }

// Close undoes everything, last created first.
func (e *env) Close() error {
	var errs []error
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		errs = append(errs, e.cleanups[i]())
	}
	return errors.Join(errs...)
}

// freshStore returns base with the store moved somewhere new and empty,
// labelled label: a new schema in base's Postgres database (search_path in
// the URL), or a new directory under tmp for the embedded store.
func (e *env) freshStore(ctx context.Context, base service.Config, tmp, label string) (service.Config, error) {
	cfg := base
	cfg.AutoMigrate = true
	if cfg.Embedded() {
		cfg.DataDir = filepath.Join(tmp, label)
		return cfg, os.MkdirAll(cfg.DataDir, 0o700)
	}
	u, err := url.Parse(cfg.PostgresURL)
	if err != nil {
		return cfg, fmt.Errorf("--postgres-url: %w", err)
	}
	schema := "orderflow_bench_" + label + "_" + strings.ToLower(rand.Text()[:8])
	if err := execPostgres(ctx, cfg.PostgresURL, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return cfg, err
	}
	e.defer_(func() error {
		return execPostgres(context.WithoutCancel(ctx), base.PostgresURL, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	cfg.PostgresURL = u.String()
	return cfg, nil
}

func execPostgres(ctx context.Context, dsn, stmt string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("postgres: %s: %w", stmt, err)
	}
	return nil
}

// devKafka starts an in-memory Kafka-protocol broker on a free loopback
// port, as cmd/devkafka does, and returns its address.
func (e *env) devKafka() (string, error) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(6),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, "127.0.0.1:0") }))
	if err != nil {
		return "", fmt.Errorf("devkafka: %w", err)
	}
	e.defer_(func() error { c.Close(); return nil })
	return c.ListenAddrs()[0], nil
}

// serviceConfig is the configuration the service runs with: cfg.Service on
// a fresh store, on a free loopback port (so no API key is needed), with a
// broker namespace of its own.
func (e *env) serviceConfig(ctx context.Context, cfg Config, tmp string) (service.Config, error) {
	sc, err := e.freshStore(ctx, cfg.Service, tmp, "run")
	if err != nil {
		return sc, err
	}
	sc.HTTPAddr = "127.0.0.1:0"
	if sc.Namespace == "" {
		sc.Namespace = "bench-" + strings.ToLower(rand.Text()[:8]) + "."
	}
	if cfg.DevKafka {
		addr, err := e.devKafka()
		if err != nil {
			return sc, err
		}
		sc.Broker, sc.KafkaBrokers = "kafka", addr
	}
	return sc, nil
}

// startService runs the service on sc; the returned stop closes it.
func startService(ctx context.Context, sc service.Config, logger *slog.Logger) (*service.Main, error) {
	m := service.NewMain(sc)
	m.Logger = logger
	if err := m.Run(ctx); err != nil {
		return nil, errors.Join(err, m.Close())
	}
	return m, nil
}
