package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill"
	wmkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/adapters/broker/kafka"
	sqlbroker "github.com/orderflow/orderflow/adapters/broker/sql"
	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/adapters/sqlite/sqlitepubsub"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/outbox"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/router"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var logger = watermill.NopLogger{}

// outboxFixture is one event store with its outbox, as the forwarder sees it.
type outboxFixture struct {
	store ports.EventStore
	// reader returns a new reader of the outbox for the forwarder's group,
	// as another forwarder process would have.
	reader func(t testing.TB) outbox.Source
	// acked is the group's acknowledged offset on the outbox.
	acked  func(t testing.TB) int64
	poison ports.PoisonStore
	// inject writes a raw row to the outbox, as a foreign writer would.
	inject func(t testing.TB, msg *message.Message)
}

var outboxStores = []struct {
	name string
	open func(t testing.TB) outboxFixture
}{
	{"postgres", func(t testing.TB) outboxFixture {
		pool, _ := testenv.PostgresPool(t)
		cfg := postgres.EventStoreConfig{OutboxTopic: outbox.Topic, EventTopic: router.EventTopic, Logger: logger}
		if err := postgres.InitializeOutbox(context.Background(), pool, cfg); err != nil {
			t.Fatal(err)
		}
		es, err := postgres.NewEventStore(pool, cfg)
		if err != nil {
			t.Fatal(err)
		}
		offsets := wsql.DefaultPostgreSQLOffsetsAdapter{}.MessagesOffsetsTable(outbox.Topic)
		return outboxFixture{
			store: es,
			reader: func(t testing.TB) outbox.Source {
				r, err := postgres.NewOutboxReader(context.Background(), pool, outbox.Topic, outbox.ConsumerGroup)
				if err != nil {
					t.Fatal(err)
				}
				return r
			},
			acked: func(t testing.TB) int64 {
				var n int64
				if err := pool.QueryRow(context.Background(), `SELECT offset_acked FROM `+offsets+` WHERE consumer_group = $1`,
					outbox.ConsumerGroup).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			},
			poison: postgres.Stores(pool).Poison,
			inject: func(t testing.TB, msg *message.Message) {
				pub, err := wsql.NewPublisher(wsql.BeginnerFromPgx(pool), wsql.PublisherConfig{SchemaAdapter: postgres.OutboxSchema}, logger)
				if err != nil {
					t.Fatal(err)
				}
				if err := pub.Publish(outbox.Topic, msg); err != nil {
					t.Fatal(err)
				}
			},
		}
	}},
	{"sqlite", func(t testing.TB) outboxFixture {
		db := storetest.SQLiteDB(t)
		if err := sqlitepubsub.InitializeSchema(context.Background(), db); err != nil {
			t.Fatal(err)
		}
		es, err := sqlite.NewEventStore(db, sqlite.EventStoreConfig{OutboxTopic: outbox.Topic, EventTopic: router.EventTopic})
		if err != nil {
			t.Fatal(err)
		}
		return outboxFixture{
			store: es,
			reader: func(t testing.TB) outbox.Source {
				r, err := sqlbroker.SQLiteOutbox(db, outbox.Topic, outbox.ConsumerGroup, logger)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = r.Close() })
				return r
			},
			acked: func(t testing.TB) int64 {
				var n int64
				if err := db.QueryRowContext(context.Background(), `SELECT acked_offset FROM pubsub_offsets WHERE consumer_group = ? AND topic = ?`,
					outbox.ConsumerGroup, outbox.Topic).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			},
			poison: sqlite.Stores(db).Poison,
			inject: func(t testing.TB, msg *message.Message) {
				pub, err := sqlitepubsub.NewPublisher(db, sqlitepubsub.PublisherConfig{}, logger)
				if err != nil {
					t.Fatal(err)
				}
				if err := pub.Publish(outbox.Topic, msg); err != nil {
					t.Fatal(err)
				}
			},
		}
	}},
}

// testKafka is an in-process Kafka whose produce requests are counted, and
// can be made to fail.
type testKafka struct {
	addrs    []string
	produces atomic.Int64 // produce requests the cluster answered
	down     atomic.Bool  // while set, produce requests after the first fail
	// passedWhileDown counts produce requests let through while down.
	passedWhileDown atomic.Int64
}

func newTestKafka(t testing.TB) *testKafka {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	k := &testKafka{addrs: c.ListenAddrs()}
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if k.down.Load() && k.passedWhileDown.Add(1) > 1 {
			// Closing the connection fails the request mid-batch: the
			// first request of the outage went through.
			return nil, errors.New("test: broker down"), true
		}
		k.produces.Add(1)
		return nil, nil, false
	})
	return k
}

func (k *testKafka) broker(t testing.TB) broker.Broker {
	b, err := kafka.New(kafka.Config{Brokers: k.addrs, Partitions: 3}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown() })
	return b
}

// read returns the messages of topic, partition by partition in offset
// order, once at least want distinct UUIDs arrived.
func (k *testKafka) read(t testing.TB, topic string, want int) []*message.Message {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	consumer, err := sarama.NewConsumer(k.addrs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var all []*message.Message
		distinct := map[string]bool{}
		parts, err := consumer.Partitions(topic)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parts {
			for _, m := range readPartition(t, consumer, topic, p) {
				all = append(all, m)
				distinct[m.UUID] = true
			}
		}
		if len(distinct) >= want {
			return all
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d distinct messages on %s, want %d", len(distinct), topic, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readPartition(t testing.TB, c sarama.Consumer, topic string, p int32) []*message.Message {
	t.Helper()
	pc, err := c.ConsumePartition(topic, p, sarama.OffsetOldest)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	high := pc.HighWaterMarkOffset()
	var out []*message.Message
	for len(out) < int(high) {
		select {
		case km := <-pc.Messages():
			m, err := wmkafka.DefaultMarshaler{}.Unmarshal(km)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
			if km.Offset+1 >= high {
				return out
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("partition %d: %d of %d messages", p, len(out), high)
		}
	}
	return out
}

// openWithEvents opens a test Kafka and an outbox store holding the events
// appendEvents appends.
func openWithEvents(t testing.TB, open func(testing.TB) outboxFixture, orders, perOrder int) (*testKafka, outboxFixture, map[string]*message.Message) {
	k := newTestKafka(t)
	fx := open(t)
	return k, fx, appendEvents(t, fx.store, orders, perOrder)
}

// appendEvents appends perOrder events to each of orders orders, one order
// after the other per version, so the outbox interleaves them, and returns
// the messages the outbox must deliver, by UUID.
func appendEvents(t testing.TB, es ports.EventStore, orders, perOrder int) map[string]*message.Message {
	t.Helper()
	ctx := context.Background()
	streams := make([]ports.Stream, orders)
	for i := range streams {
		streams[i] = ports.Stream{Type: "order", ID: uuid.NewString()}
	}
	for v := range perOrder {
		for _, s := range streams {
			ev := ports.NewEvent{Type: "order.noted.v1", Data: []byte(fmt.Sprintf(`{"n":%d}`, v)),
				Metadata: ports.EventMetadata{EventID: uuid.Must(uuid.NewV7()).String(), CorrelationID: "c-" + s.ID, OccurredAt: time.Now().Truncate(time.Microsecond)}}
			if _, err := es.Append(ctx, s, int64(v), []ports.NewEvent{ev}); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]*message.Message{}
	for _, s := range streams {
		recorded, err := es.Load(ctx, s, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range recorded {
			m := eventwire.ToMessage(e)
			want[m.UUID] = m
		}
	}
	return want
}

// checkDelivered asserts that every wanted message arrived with its UUID,
// payload and metadata, and that each order's events arrived in version
// order (duplicates of earlier events allowed: delivery is at least once).
func checkDelivered(t testing.TB, got []*message.Message, want map[string]*message.Message) {
	t.Helper()
	seen := map[string]bool{}
	lastVersion := map[string]int{}
	for _, m := range got {
		w, ok := want[m.UUID]
		if !ok {
			t.Fatalf("unexpected message %s on the broker", m.UUID)
		}
		if string(m.Payload) != string(w.Payload) || !maps.Equal(m.Metadata, w.Metadata) {
			t.Fatalf("message %s arrived as %s %v, want %s %v", m.UUID, m.Payload, m.Metadata, w.Payload, w.Metadata)
		}
		v, _ := strconv.Atoi(m.Metadata.Get(eventwire.KeyVersion))
		stream := m.Metadata.Get(eventwire.KeyStreamID)
		if seen[m.UUID] {
			continue
		}
		seen[m.UUID] = true
		if v != lastVersion[stream]+1 {
			t.Fatalf("order %s: version %d arrived after %d", stream, v, lastVersion[stream])
		}
		lastVersion[stream] = v
	}
	if len(seen) != len(want) {
		t.Fatalf("%d of %d messages arrived", len(seen), len(want))
	}
}

func newForwarder(t testing.TB, src outbox.Source, b broker.Broker, poison ports.PoisonStore, batch int, reg *prometheus.Registry) *outbox.Forwarder {
	t.Helper()
	f, err := outbox.NewForwarder(outbox.ForwarderConfig{
		Outbox: src, Broker: b, Poison: &router.PoisonPublisher{Store: poison}, PoisonTopic: router.PoisonTopic,
		BatchSize: batch, PollInterval: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		Registry: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// drain forwards batches until want rows were acknowledged and returns the
// batch sizes. On Postgres a committed row stays invisible while any older
// transaction on the server runs (pg_snapshot_xmin), so an empty batch
// does not mean the outbox is drained: it waits and reads again.
func drain(t testing.TB, f *outbox.Forwarder, want int) []int {
	t.Helper()
	var sizes []int
	total := 0
	deadline := time.Now().Add(30 * time.Second)
	for total < want {
		n, err := f.ForwardOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d rows forwarded", total, want)
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		sizes = append(sizes, n)
		total += n
	}
	if n, err := f.ForwardOnce(context.Background()); err != nil || n != 0 {
		t.Fatalf("after %d rows, another batch of %d (err %v)", want, n, err)
	}
	return sizes
}

func histogram(t testing.TB, reg *prometheus.Registry, name string) *dto.Histogram {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetHistogram()
		}
	}
	t.Fatalf("no metric %s", name)
	return nil
}

func counter(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i, lp := range m.GetLabel() {
				if i*2+1 < len(labels) && (lp.GetName() != labels[i*2] || lp.GetValue() != labels[i*2+1]) {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s%v", name, labels)
	return 0
}
