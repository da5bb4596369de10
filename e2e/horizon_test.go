package e2e

import (
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/testenv"
)

// A write transaction another application leaves open in another database
// of the same server (a batch job, an idle pgAdmin session) does not stall
// the pipeline on Postgres: the outbox forwarder and the Postgres broker's
// subscribers read below this database's horizon, not the server's
// (internal/pghorizon), so an order placed while it is open is forwarded,
// projected and checked out. Before, nothing moved until it ended.
func TestAnotherDatabasesOpenTransactionDoesNotStallThePipeline(t *testing.T) {
	cfg := stores[1].config(t) // postgres: store, broker and outbox
	_, base := startMain(t, cfg)
	setStock(t, base, "SKU-HORIZON", 5)
	// Warm up: the first order also creates the broker's tables.
	waitCheckout(t, base, placeWith(t, base, "tok_visa", "SKU-HORIZON"), "confirmed")

	other := testenv.HoldOtherDatabaseTx(t)
	start := time.Now()
	id := placeWith(t, base, "tok_visa", "SKU-HORIZON")
	waitCheckout(t, base, id, "confirmed")
	waitReadModel(t, base, id, "confirmed")
	elapsed := time.Since(start)
	if !other.Running(t.Context()) {
		t.Fatal("the other database's transaction ended before the order was confirmed: the test proves nothing")
	}
	t.Logf("placed → confirmed and projected in %v while another database's transaction was open", elapsed)
	other.End()
	expectStock(t, base, "SKU-HORIZON", 5, 2)
}
