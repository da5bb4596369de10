package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/ports"
)

// The operator's commands on a store with one parked checkout: list shows
// it with the state it was parked in, resume hands it back, and list no
// longer shows it.
func TestCheckoutsListAndResume(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(t.Context(), filepath.Join(dir, "orderflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	c := ports.Checkout{OrderID: uuid.NewString(), State: "parked", Reason: "parked: 10 attempts failed",
		ResumeState: "confirming", StartedAt: now, DeadlineAt: now, UpdatedAt: now, Version: 1}
	if err := sqlite.Stores(db).Checkouts.Save(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), append(args, "--data-dir", dir), &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr.String())
		}
		return stdout.String()
	}
	if out := cli("checkouts", "list", "--state", "parked"); !strings.Contains(out, c.OrderID) || !strings.Contains(out, "confirming") {
		t.Fatalf("checkouts list printed:\n%s", out)
	}
	if out := cli("checkouts", "resume", c.OrderID); !strings.Contains(out, "resumed "+c.OrderID+" in state confirming") {
		t.Fatalf("checkouts resume printed:\n%s", out)
	}
	if out := cli("checkouts", "list"); strings.Contains(out, c.OrderID) {
		t.Fatalf("checkouts list still shows the resumed checkout:\n%s", out)
	}
	if out := cli("checkouts", "resume", "--all-parked"); !strings.Contains(out, "resumed 0 checkouts") {
		t.Fatalf("checkouts resume --all-parked printed:\n%s", out)
	}
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"checkouts", "resume", "--data-dir", dir}, &stdout, &stderr); err == nil {
		t.Fatal("checkouts resume without an order id or --all-parked succeeded")
	}
}
