package outbox_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/adapters/broker/kafka"
	sqlbroker "github.com/orderflow/orderflow/adapters/broker/sql"
	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/outbox"
	"github.com/orderflow/orderflow/router"
	"github.com/prometheus/client_golang/prometheus"
)

// benchRows is how many outbox rows one benchmark operation forwards.
const benchRows = 500

// BenchmarkForwardOutboxToKafka forwards benchRows Postgres outbox rows (of
// 50 orders) to an in-process Kafka per operation: "per-message" is the
// previous forwarder, Watermill's components/forwarder on watermill-sql's
// subscriber, publishing each message with its own synchronous produce;
// "batched" is outbox.Forwarder with --forward-batch-size 100. The rows are
// written while the timer is stopped; the per-message path's router start
// and stop are timed (a few milliseconds).
func BenchmarkForwardOutboxToKafka(b *testing.B) {
	b.Run("per-message", func(b *testing.B) {
		pool, brk := benchOutbox(b)
		for b.Loop() {
			b.StopTimer()
			last := fillOutbox(b, pool)
			b.StartTimer()
			sub, err := sqlbroker.PostgresSubscriber(pool, outbox.ConsumerGroup, 10*time.Millisecond, logger)
			if err != nil {
				b.Fatal(err)
			}
			fwd, err := forwarder.NewForwarder(sub, brk.Publisher, logger, forwarder.Config{ForwarderTopic: outbox.Topic})
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- fwd.Run(context.Background()) }()
			for ackedOffset(b, pool) < last {
				time.Sleep(time.Millisecond)
			}
			if err := fwd.Close(); err != nil {
				b.Fatal(err)
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("batched", func(b *testing.B) {
		pool, brk := benchOutbox(b)
		reader, err := postgres.NewOutboxReader(context.Background(), pool, outbox.Topic, outbox.ConsumerGroup)
		if err != nil {
			b.Fatal(err)
		}
		f, err := outbox.NewForwarder(outbox.ForwarderConfig{
			Outbox: reader, Broker: brk, Poison: brk.Publisher, PoisonTopic: router.PoisonTopic,
			BatchSize: 100, Registry: prometheus.NewRegistry(),
		})
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			b.StopTimer()
			last := fillOutbox(b, pool)
			b.StartTimer()
			// An empty batch is not the end: rows stay invisible while an
			// older transaction runs on the server (pg_snapshot_xmin).
			for {
				n, err := f.ForwardOnce(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if n == 0 && ackedOffset(b, pool) >= last {
					break
				}
			}
		}
		b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

func benchOutbox(b *testing.B) (*pgxpool.Pool, broker.Broker) {
	pool, _ := testenv.PostgresPool(b)
	cfg := postgres.EventStoreConfig{OutboxTopic: outbox.Topic, EventTopic: router.EventTopic, Logger: logger}
	if err := postgres.InitializeOutbox(context.Background(), pool, cfg); err != nil {
		b.Fatal(err)
	}
	addrs := testenv.Kafka(b)
	brk, err := kafka.New(kafka.Config{Brokers: addrs, Partitions: 6}, logger)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = brk.Shutdown() })
	return pool, brk
}

// fillOutbox writes benchRows enveloped events as the event store does and
// returns the offset of the last one.
func fillOutbox(b *testing.B, pool *pgxpool.Pool) int64 {
	pub, err := wsql.NewPublisher(wsql.BeginnerFromPgx(pool), wsql.PublisherConfig{SchemaAdapter: postgres.OutboxSchema}, logger)
	if err != nil {
		b.Fatal(err)
	}
	fwd := forwarder.NewPublisher(pub, forwarder.PublisherConfig{ForwarderTopic: outbox.Topic})
	orders := make([]string, 50)
	for i := range orders {
		orders[i] = uuid.NewString()
	}
	msgs := make([]*message.Message, benchRows)
	for i := range msgs {
		m := message.NewMessage(uuid.Must(uuid.NewV7()).String(), []byte(`{"order_id":"`+orders[i%len(orders)]+`","n":`+strconv.Itoa(i)+`}`))
		m.Metadata.Set(eventwire.KeyPartition, orders[i%len(orders)])
		m.Metadata.Set(eventwire.KeyEventType, "order.noted.v1")
		msgs[i] = m
	}
	if err := fwd.Publish(router.EventTopic("order"), msgs...); err != nil {
		b.Fatal(err)
	}
	var last int64
	if err := pool.QueryRow(context.Background(), `SELECT max("offset") FROM `+postgres.OutboxSchema.MessagesTable(outbox.Topic)).Scan(&last); err != nil {
		b.Fatal(err)
	}
	return last
}

func ackedOffset(b *testing.B, pool *pgxpool.Pool) int64 {
	var n int64
	err := pool.QueryRow(context.Background(), `SELECT coalesce(max(offset_acked), 0) FROM `+
		wsql.DefaultPostgreSQLOffsetsAdapter{}.MessagesOffsetsTable(outbox.Topic)+` WHERE consumer_group = $1`,
		outbox.ConsumerGroup).Scan(&n)
	if err != nil {
		b.Fatal(err)
	}
	return n
}
