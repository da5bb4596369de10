package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/service"
)

// TestFaultBrokerOutage runs the service with its Postgres broker on a
// second connection through a proxy, and cuts the broker for 10 s under
// load: commands are still accepted (the outbox is in the store), and
// everything drains once the broker is back.
func TestFaultBrokerOutage(t *testing.T) {
	cfg := service.Config{PostgresURL: postgresURLFor(t)}
	proxy := startProxy(t, proxyTarget(t, cfg.PostgresURL))
	cfg.Reliability.BrokerPostgresURL = viaProxy(t, cfg.PostgresURL, proxy)
	_, base := startMain(t, withoutSaga(cfg))
	g := &loadGen{base: base, customer: "fault-broker-" + uuid.NewString(), accepted: map[string]bool{}, maybeConfirmed: map[string]bool{}, pace: 50 * time.Millisecond}
	stop := make(chan struct{})
	wg := g.run(2, stop)
	waitFor(t, 30*time.Second, "load before the outage", func() bool { return g.count.Load() >= 20 })

	proxy.Cut()
	before := g.count.Load()
	time.Sleep(10 * time.Second) // the outage itself, not synchronisation
	during := g.count.Load() - before
	proxy.Restore(t)
	close(stop)
	wg.Wait()
	if during == 0 {
		t.Fatalf("no command was accepted while the broker was down")
	}
	lost, twice, caughtUp := checkOrders(t, base, g.customer, g.accepted, g.maybeConfirmed)
	faultReport{name: "broker down 10s (postgres broker)", accepted: len(g.accepted), lost: lost, twice: twice,
		recover: caughtUp, extra: fmt.Sprintf(" (%d commands accepted during the outage; all drained after it)", during)}.log(t)
}

// TestFaultPostgresRestart cuts every connection between the service and
// Postgres (store and broker) for 3 s under load, as a restart of the
// server would, then restores it: nothing accepted is lost and the service
// recovers on its own.
func TestFaultPostgresRestart(t *testing.T) {
	direct := postgresURLFor(t)
	proxy := startProxy(t, proxyTarget(t, direct))
	_, base := startMain(t, withoutSaga(service.Config{PostgresURL: viaProxy(t, direct, proxy)}))
	g := &loadGen{base: base, customer: "fault-pg-" + uuid.NewString(), accepted: map[string]bool{}, maybeConfirmed: map[string]bool{}, pace: 20 * time.Millisecond}
	stop := make(chan struct{})
	wg := g.run(4, stop)
	waitFor(t, 30*time.Second, "load before the restart", func() bool { return g.count.Load() >= 20 })

	proxy.Cut()
	time.Sleep(3 * time.Second) // the restart itself, not synchronisation
	proxy.Restore(t)
	restored := time.Now()
	after := g.count.Load() + 10
	waitFor(t, 60*time.Second, "commands accepted again", func() bool { return g.count.Load() >= after })
	writesBack := time.Since(restored)
	close(stop)
	wg.Wait()
	lost, twice, caughtUp := checkOrders(t, base, g.customer, g.accepted, g.maybeConfirmed)
	faultReport{name: "postgres restarted (3s cut)", accepted: len(g.accepted), lost: lost, twice: twice,
		recover: writesBack, extra: fmt.Sprintf(" to accept writes; read model caught up %s after the load", caughtUp.Round(time.Millisecond))}.log(t)
}

// postgresURLFor is a fresh, migrated schema on the test server.
func postgresURLFor(t *testing.T) string { return testenv.PostgresURL(t) }
